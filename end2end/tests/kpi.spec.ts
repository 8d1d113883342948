import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test.describe('KPI dashboard', () => {
  test('shows every active demo workspace with pacing and keeps filters in the URL', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    // Activity over the last 20 days, so the counts are in the thousands on any day of the month
    // (month to date on the 1st is a few hours).
    const from = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`/admin/kpi?from=${from}`);
    const rows = page.locator('[data-testid=kpi-table] tbody tr');
    await expect(rows).toHaveCount(12);
    await expect(page.locator('[data-testid=kpi-status-legend] .badge')).toHaveText(['on track', 'at risk', 'behind']);
    // Each status is one of the defined ones, and the demo has workspaces on track and behind.
    await expect(page.locator('[data-testid=kpi-table] tr[data-status=on_track]').first()).toBeVisible();
    await expect(page.locator('[data-testid=kpi-table] tr[data-status=behind]').first()).toBeVisible();
    await expect(page.locator('[data-testid=kpi-table] svg.sparkline')).toHaveCount(12);
    // Counts are grouped (1,200 not 1200) in every number cell.
    const cells = await page.locator('[data-testid=kpi-table] td.num').allInnerTexts();
    expect(cells.some((t) => /\d,\d{3}/.test(t))).toBe(true);
    for (const t of cells) expect(t.replace(/\.\d+/g, '')).not.toMatch(/\d{4}/);

    await page.locator('select[name=workspace]').selectOption('acme-roofing');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/workspace=acme-roofing/);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('Acme Roofing');

    // The export downloads exactly the rows shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
    const lines = text.trim().split('\n');
    expect(lines[0]).toContain('workspace,slug,interested_mtd,monthly_target');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('acme-roofing');
  });

  test('sorting by a column is a link that keeps the filters', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    const from = new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`/admin/kpi?from=${from}`);
    await page.getByRole('link', { name: 'Workspace', exact: true }).click();
    await expect(page).toHaveURL(/sort=name&dir=asc/);
    await expect(page).toHaveURL(new RegExp(`from=${from}`));
    await expect(page.locator('[data-testid=kpi-table] tbody tr').first()).toContainText('Acme Roofing');
  });

  test('a bad date says what to fix and offers a way back', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/kpi?from=2001-01-01');
    await expect(page.getByRole('alert')).toContainText('at most three years');
    await page.getByRole('link', { name: 'Reset the filters' }).click();
    await expect(page.locator('[data-testid=kpi-table] tbody tr')).toHaveCount(12);
  });

  test('a client is refused the KPI page', async ({ page }) => {
    await login(page, CLIENT.email, CLIENT.password);
    const res = await page.goto('/admin/kpi');
    expect(res!.status()).toBe(403);
    await expect(page.locator('[data-testid=forbidden]')).toBeVisible();
  });
});
