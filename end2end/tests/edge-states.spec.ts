import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, hydrated, login } from './helpers';

// Edge states that used to mislead (issue 12, item 10).

test("another workspace's portal is refused without a live-connection indicator beside it", async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  const streams: string[] = [];
  // Only the refused workspace's stream counts: the client's own board (where sign-in landed)
  // may still open its stream while this test moves on.
  page.on('request', (r) => { if (r.url().includes('/glow-med-spa/events')) streams.push(r.url()); });
  expect((await page.goto('/client-portal/glow-med-spa'))!.status()).toBe(404);
  await expect(page.getByTestId('not-found')).toBeVisible();
  await hydrated(page);
  await page.waitForLoadState('networkidle'); // the page's effects have run
  await expect(page.getByTestId('live-status')).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText('Offline');
  expect(streams, 'no event stream is opened for a refused workspace').toEqual([]);

  // The client's own board still goes live.
  await page.goto('/client-portal/acme-roofing');
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'live');
});

test('a bad filter on the board keeps the heading, the filters and a reset link', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto('/client-portal/acme-roofing?from=garbage&q=smith');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pipeline');
  await expect(page.getByRole('alert')).toHaveText('These filters can\'t be applied. The from date "garbage" is not a date like 2026-11-01.');
  const filters = page.getByTestId('bad-filter');
  await expect(filters.locator('input[name=q]')).toHaveValue('smith');
  await expect(filters.getByRole('button', { name: 'Apply' })).toBeVisible();
  await page.getByTestId('reset-filters').click();
  await expect(page).toHaveURL((url) => url.pathname === '/client-portal/acme-roofing' && url.search === '');
  await expect(page.getByTestId('workspace-name')).toHaveText('Acme Roofing');
});

test('an unknown workspace on the KPI page says it was not found, with a link that clears it', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/kpi?workspace=does-not-exist');
  await expect(page.getByText('Workspace not found')).toBeVisible();
  await expect(page.locator('.empty-state')).toContainText('No active workspace has the URL name "does-not-exist".');
  await expect(page.getByText('No active workspaces')).toHaveCount(0);
  await page.getByTestId('clear-workspace').click();
  await expect(page).toHaveURL((url) => url.pathname === '/admin/kpi' && !url.searchParams.get('workspace'));
  await expect(page.getByTestId('kpi-table')).toContainText('Acme Roofing');
});
