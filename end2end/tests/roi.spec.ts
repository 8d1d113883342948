import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('ROI shows both ratios per client with a trend chart and a per-month export', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/roi');
  await expect(page.locator('[data-testid=roi-table] tbody tr')).toHaveCount(12);
  await expect(page.locator('#roi-chart canvas')).toHaveCount(1, { timeout: 60_000 });
  // Client ROI is a percentage in the table as in the chart (no "×"), and numbers are grouped.
  const table = page.locator('[data-testid=roi-table]');
  await expect(table).not.toContainText('×');
  for (const t of await table.locator('td.num').allInnerTexts()) {
    expect(t).toMatch(/^(—|-?\$?[\d,]+(\.\d+)?( %)?)$/);
    expect(t.replace(/\.\d+/g, '')).not.toMatch(/\d{4}/);
  }
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

test('a month without costs is a gap in the ROI chart, not 0 %', async ({ page }) => {
  test.setTimeout(120_000); // the chart waits for the WASM to hydrate (slow on a busy machine)
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/roi');
  await expect(page.locator('#roi-chart canvas')).toHaveCount(1, { timeout: 60_000 });
  // The demo's costs start about four months ago: the first of the six months had none, so its
  // agency ROI (profit / costs) is a gap. (Retainer fees were billed then, so client ROI is 0 %.)
  const series = await page.evaluate(() => {
    const ec = (window as any).echarts.getInstanceByDom(document.getElementById('roi-chart'));
    return ec.getOption().series.map((s: any) => ({ name: s.name, data: s.data.map((v: any) => (v === null || v === '-' || (typeof v === 'number' && Number.isNaN(v)) ? 'gap' : v)) }));
  });
  expect(series.map((s: any) => s.name)).toEqual(['Agency ROI %', 'Client ROI %']);
  for (const s of series) {
    expect(s.data).toHaveLength(6);
    expect(s.data.slice(3).every((v: any) => typeof v === 'number')).toBe(true);
  }
  expect(series[0].data[0]).toBe('gap');
  expect(series[0].data).not.toContain(0);
  expect(series[1].data[0]).toBe(0);
});
