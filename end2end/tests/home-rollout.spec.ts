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
  await expect(rows.first().locator('[data-overdue=true]')).toContainText('Warm-up done — overdue since');
  // Nobody ticked its inboxes, but its connected senders prove them.
  await expect(rows.first()).toContainText(/Inboxes created — done \d{4}-\d{2}-\d{2} \(from the data: 18 connected senders\)/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('workspace,slug,step,due_on,completed_on,overdue,proof,conflict');
  expect(lines).toHaveLength(6); // one workspace, five steps
  expect(lines.filter((l) => l.split(',')[5] === 'true')).toHaveLength(1);
  expect(lines[2]).toMatch(/^Sunrise Home Care,sunrise-home-care,Inboxes created,[\d-]+,[\d-]+,false,18 connected senders,$/);
});

test('a client is refused the rollout page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  const res = await page.goto('/admin/rollout');
  expect(res!.status()).toBe(403);
});

test('rollout agrees with the data: no step done in the future, live workspaces fully rolled out', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/rollout');
  const rows = page.locator('[data-testid=rollout-table] tbody tr');
  await expect(rows).toHaveCount(12);
  // The agency's today (New York) is never after UTC's.
  const today = new Date().toISOString().slice(0, 10);
  const chips = await page.locator('[data-testid=rollout-table] li').allTextContents();
  const done = chips.flatMap((c) => [...c.matchAll(/done (\d{4}-\d{2}-\d{2})/g)].map((m) => m[1]));
  expect(done.length).toBeGreaterThan(50);
  expect(done.filter((d) => d > today)).toEqual([]);
  await expect(page.locator('[data-testid=rollout-table] li[data-conflict=true]')).toHaveCount(0);
  // Every workspace that sends and has interested leads shows all five steps done.
  for (const name of ['Acme Roofing', 'Northside Plumbing', 'Riverbend Law']) {
    const row = rows.filter({ hasText: name });
    await expect(row.locator('.step-done')).toHaveCount(5);
    await expect(row).toContainText('5/5');
  }
  // Northside never ticked its first interested lead: the lead's day stands.
  await expect(rows.filter({ hasText: 'Northside Plumbing' })).toContainText(/First interested lead — done (\d{4}-\d{2}-\d{2}) \(from the data: first interested lead on \1\)/);
});

test('the home lists critical senders worst first, and "and N more" opens the critical senders', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin');
  const box = page.locator('[data-testid=alert-senders]');
  const items = await box.locator('li').allTextContents();
  const rates = items.filter((t) => t.includes('bounce')).map((t) => parseFloat(t.match(/bounce ([\d.,]+) %/)![1].replace(/,/g, '')));
  expect(rates).toHaveLength(8);
  expect(rates).toEqual([...rates].sort((a, b) => b - a));
  // Counts are grouped like 1,200 everywhere on the page.
  for (const v of await page.locator('.stat-value').allTextContents()) expect(v).toMatch(/^\d{1,3}(,\d{3})*$/);
  const more = box.getByTestId('more-senders');
  await expect(more).toHaveText(/^and \d+ more$/);
  await more.click();
  await expect(page).toHaveURL(/\/admin\/senders\?band=critical$/);
  const bands = await page.locator('[data-testid=senders-table] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-band')));
  expect(bands.length).toBeGreaterThan(0);
  expect(new Set(bands)).toEqual(new Set(['critical']));
});
