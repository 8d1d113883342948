import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

// Last month in the agency's time zone (the demo's is America/New_York), not the browser's:
// between midnight UTC and midnight in New York on the 1st, UTC's "last month" is still open.
function lastMonth(): string {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit' })
    .format(new Date()).split('-').map(Number);
  return new Date(Date.UTC(y, m - 2, 15)).toISOString().slice(0, 7);
}

test('revenue shows both pricing models, a total, two charts, and exports the rows shown', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  // A whole month of demo history, whatever today's date (the current month is hours old on the 1st).
  await page.goto(`/admin/revenue?month=${lastMonth()}`);
  const table = page.locator('[data-testid=revenue-table]');
  await expect(table.locator('tbody tr')).toHaveCount(12);
  await expect(table.locator('tbody')).toContainText('per lead');
  await expect(table.locator('tbody')).toContainText('retainer');
  await expect(table.locator('tfoot')).toContainText('Agency total');
  // Client ROI is a percentage (as on the ROI page), and billable leads say why they are fewer
  // than interested ones: "42 interested − 3 invalid" under 39.
  await expect(table).not.toContainText('×');
  const total = table.locator('tfoot td.num').first();
  const [count, note] = (await total.innerText()).split('\n').map((s) => s.trim()).filter(Boolean);
  const [, all, invalid] = note.match(/^([\d,]+) interested − ([\d,]+) invalid$/)!;
  const n = (s: string) => parseInt(s.replace(/,/g, ''), 10);
  const billable = n(count);
  expect(n(invalid)).toBeGreaterThan(0);
  expect(billable).toBe(n(all) - n(invalid));
  for (const t of await table.locator('td.num').allInnerTexts()) expect(t.replace(/\.\d+/g, '')).not.toMatch(/\d{4}/);
  await expect(page.locator('#revenue-history-chart canvas')).toHaveCount(1, { timeout: 60_000 });
  await expect(page.locator('#revenue-daily-chart canvas')).toHaveCount(1, { timeout: 60_000 });

  await page.locator('select[name=workspace]').selectOption('bright-smile-dental');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/workspace=bright-smile-dental/);
  await expect(table.locator('tbody tr')).toHaveCount(1);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('month,workspace,slug,pricing_model,billable_leads,revenue,costs,profit,margin,agency_roi,won_value,client_roi,frozen');
  expect(lines).toHaveLength(3); // the workspace and the total
  expect(lines[1]).toContain('bright-smile-dental,retainer');
});

test('a closed month is frozen and a future month is refused with a reason', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto(`/admin/revenue?month=${lastMonth()}`);
  await expect(page.locator('[data-testid=revenue-table] tbody tr').first()).toContainText('frozen');
  await page.goto('/admin/revenue?month=2099-01');
  await expect(page.getByRole('alert')).toContainText('has not started yet');
});

test('a client is refused the revenue page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/revenue'))!.status()).toBe(403);
});
