import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('the admin home puts alerts first: workspaces behind, critical senders, the ZIP conflict', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin');
  const alerts = page.locator('[data-testid=alerts]');
  await expect(alerts.locator('[data-testid=alert-behind]')).toContainText('behind target');
  await expect(alerts.locator('[data-testid=alert-senders]')).toContainText('critical sender');
  await expect(alerts.locator('[data-testid=alert-zips]')).toContainText('78701 is assigned to Bright Smile Dental and Glow Med Spa');
  // Alerts come before the totals.
  const alertsBox = await alerts.boundingBox();
  const statsBox = await page.locator('.stat-grid').boundingBox();
  expect(alertsBox!.y).toBeLessThan(statsBox!.y);
});

test('rollout progress highlights overdue steps, filters by URL and exports the rows shown', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/rollout');
  await expect(page.locator('[data-testid=rollout-table] tbody tr')).toHaveCount(12);
  await page.locator('select[name=show]').selectOption('overdue');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/show=overdue/);
  const rows = page.locator('[data-testid=rollout-table] tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Sunrise Home Care');
  await expect(rows.first().locator('[data-overdue=true]')).toHaveCount(1);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('workspace,slug,step,due_on,completed_on,overdue');
  expect(lines).toHaveLength(6); // one workspace, five steps
  expect(lines.filter((l) => l.endsWith(',true'))).toHaveLength(1);
});

test('a client is refused the rollout page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  const res = await page.goto('/admin/rollout');
  expect(res!.status()).toBe(403);
});
