import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('email accounts: bands, capacity and runway; a filter changes the rows and the URL; export follows', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/senders');
  await expect(page.getByTestId('band-counts')).toContainText('critical');
  await expect(page.locator('[data-testid=capacity-table] tbody tr')).toHaveCount(12);
  const rows = page.locator('[data-testid=senders-table] tbody tr');
  const all = await rows.count();
  expect(all).toBeGreaterThan(150);
  // Critical first by default.
  await expect(rows.first()).toHaveAttribute('data-band', 'critical');

  await page.locator('select[name=band]').selectOption('critical');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/band=critical/);
  const critical = await rows.count();
  expect(critical).toBeGreaterThan(0);
  expect(critical).toBeLessThan(all);
  for (const band of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-band')))) {
    expect(band).toBe('critical');
  }
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('workspace,slug,sender,status,daily_limit,sent,bounced,bounce_rate,health,warmup,last_synced_at');
  expect(lines).toHaveLength(critical + 1);
  expect(lines.slice(1).every((l) => l.includes(',critical,'))).toBe(true);
});

test('a client is refused the email accounts page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/senders'))!.status()).toBe(403);
});
