import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('ROI shows both ratios per client with a trend chart and a per-month export', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/roi');
  await expect(page.locator('[data-testid=roi-table] tbody tr')).toHaveCount(12);
  await expect(page.locator('#roi-chart canvas')).toHaveCount(1, { timeout: 15_000 });
  await page.locator('select[name=workspace]').selectOption('acme-roofing');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/workspace=acme-roofing/);
  await expect(page.locator('[data-testid=roi-table] tbody tr')).toHaveCount(1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('workspace,slug,month,fees,costs,won_value,agency_roi,client_roi');
  expect(lines).toHaveLength(7); // six months of one workspace
});

test('a client is refused the ROI page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/roi'))!.status()).toBe(403);
});
