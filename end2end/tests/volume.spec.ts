import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('volume draws its chart, flags under-sending, filters by URL and exports the rows shown', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/volume');
  // ECharts (served by our host) draws into a canvas once the page has hydrated.
  await expect(page.locator('#volume-chart canvas')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.locator('[data-testid=volume-table] tbody tr')).toHaveCount(12);
  // The demo has under-sending days somewhere.
  await expect(page.locator('[data-testid=volume-table] tbody tr:not([data-under="0"])').first()).toBeVisible();
  // Counts are grouped (1,200 not 1200) in every number cell.
  const cells = await page.locator('[data-testid=volume-table] td.num').allInnerTexts();
  expect(cells.some((t) => /\d,\d{3}/.test(t))).toBe(true);
  for (const t of cells) expect(t.replace(/\.\d+/g, '')).not.toMatch(/\d{4}/);

  await page.locator('select[name=workspace]').selectOption('harbor-hvac');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/workspace=harbor-hvac/);
  await expect(page.locator('[data-testid=volume-table] tbody tr')).toHaveCount(1);
  await expect(page.locator('#volume-chart canvas')).toHaveCount(1, { timeout: 60_000 });

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('workspace,slug,day,sent,daily_send_target,under_sending,sending_capacity');
  expect(lines).toHaveLength(31); // 30 days of one workspace
  expect(lines.slice(1).every((l) => l.includes('harbor-hvac'))).toBe(true);
});

test('ECharts is served by our own host', async ({ request }) => {
  const res = await request.get('/vendor/echarts.min.js');
  expect(res.status()).toBe(200);
  expect((await res.body()).length).toBeGreaterThan(500_000);
});

test('a client is refused the volume page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/volume'))!.status()).toBe(403);
});
