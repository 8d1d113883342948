import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test('the ZIP map draws territories, the conflict stands out and filters live in the URL', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/zips');
  await expect(page.locator('#zip-map canvas')).toHaveCount(1);
  const rows = page.locator('[data-testid=zip-table] tbody tr');
  // 12 demo workspaces × two metros × five ZIPs, except Austin (one ZIP, held twice).
  expect(await rows.count()).toBeGreaterThanOrEqual(100);
  const austin = rows.filter({ hasText: '78701' });
  await expect(austin).toHaveAttribute('data-conflict', 'true');
  await expect(austin).toContainText('Bright Smile Dental');
  await expect(austin).toContainText('Glow Med Spa');

  await page.locator('select[name=show]').selectOption('conflicts');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/show=conflicts/);
  await expect(rows.first()).toContainText('78701');
  for (const flag of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-conflict')))) {
    expect(flag).toBe('true');
  }

  await page.goto('/admin/zips?q=Seattle');
  await expect(rows).toHaveCount(5);
  await expect(page.locator('[data-testid=zip-summary]')).toContainText('5 of');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('zip,city,state,workspaces,workspace_slugs,conflict,assigned_on');
  expect(lines).toHaveLength(6);
  expect(lines.slice(1).every((l) => l.includes(',Seattle,WA,'))).toBe(true);
});

test('an admin uploads a CSV of assignments and downloads the rejected rows', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/zips');
  await page.getByText('Upload ZIP assignments (CSV)').click();
  const csv = 'workspace;zip;state\nacme-roofing;73301;\nacme-roofing;12345x;\nno-such-client;73344;\nacme-roofing;10001;CA\n';
  await page.locator('input[type=file][name=file]').setInputFiles({ name: 'territory.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/\/admin\/zips\?import=\d+/);
  const outcome = page.locator('[data-testid=zip-import]');
  await expect(outcome).toContainText('4 rows read — 1 assigned, 0 unchanged (already assigned or repeated), 3 rejected.');
  await expect(outcome).toContainText('line 5: ZIP 10001 is in NY, not CA');

  const [download] = await Promise.all([page.waitForEvent('download'), outcome.getByRole('link', { name: 'Download the rejected rows' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('line,error,workspace,zip,state');
  expect(lines).toHaveLength(4);
  expect(lines[3]).toBe('5,"ZIP 10001 is in NY, not CA",acme-roofing,10001,CA');

  await page.goto('/admin/zips?q=73301');
  await expect(page.locator('[data-testid=zip-table] tbody tr')).toHaveCount(1);
  await expect(page.locator('[data-testid=zip-table] tbody tr')).toContainText('Acme Roofing');
});

test('a client is refused the ZIP page and its export', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/zips'))!.status()).toBe(403);
  const res = await page.request.get('/admin/zips.csv');
  expect(res.status()).toBe(403);
});
