import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('email accounts: bands, capacity and runway; a filter changes the rows and the URL; export follows', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/senders');
  await expect(page.getByTestId('band-counts')).toContainText('critical');
  await expect(page.locator('[data-testid=capacity-table] tbody tr')).toHaveCount(12);
  const rows = page.locator('[data-testid=senders-table] tbody tr');
  // Paged on the server: 50 of the demo's 204 senders.
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId('pager')).toContainText('Rows 1–50 of 204');
  const all = 204;
  // Critical first by default.
  await expect(rows.first()).toHaveAttribute('data-band', 'critical');

  await page.locator('select[name=band]').selectOption('critical');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/band=critical/);
  await expect(page.getByTestId('pager')).not.toContainText('of 204');
  expect(await rows.count()).toBeGreaterThan(0);
  const critical = Number((await page.getByTestId('pager').textContent())!.match(/of (\d+)/)![1]);
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

test('email accounts page by page: page and size in the URL, sort kept, export has every filtered row', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/senders?sort=email&dir=asc');
  const rows = page.locator('[data-testid=senders-table] tbody tr');
  const pager = page.getByTestId('pager');
  const emails = () => rows.evaluateAll((trs) => trs.map((tr) => tr.children[1].textContent!.trim()));
  const first = await emails();
  expect(first).toHaveLength(50);
  expect([...first].sort()).toEqual(first);

  await pager.getByRole('link', { name: 'Next' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page).toHaveURL(/sort=email/);
  await expect(pager).toContainText('Rows 51–100 of 204');
  const second = await emails();
  expect(second).toHaveLength(50);
  expect(second[0] > first[49]).toBe(true); // the order runs on across pages

  // The last page holds the remaining 4 (204 = 4 × 50 + 4); asking past it shows the last page.
  await page.goto('/admin/senders?sort=email&dir=asc&page=9');
  await expect(pager).toContainText('Rows 201–204 of 204');
  await expect(rows).toHaveCount(4);
  await expect(pager.getByRole('link', { name: 'Next' })).toHaveCount(0);

  await pager.getByRole('link', { name: '200' }).click();
  await expect(page).toHaveURL(/size=200/);
  await expect(rows).toHaveCount(200);

  // The export ignores the page: every sender that passes the filters.
  await page.goto('/admin/senders?page=2&size=50');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  expect(text.trim().split('\n')).toHaveLength(204 + 1);
});

test('a client is refused the email accounts page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/senders'))!.status()).toBe(403);
});
