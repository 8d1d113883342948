import http from 'node:http';
import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, archiveWorkspace, hydrated, login } from './helpers';

// Many round trips per test: more than the default 30 s on a busy machine.
test.describe.configure({ timeout: 90_000 });

// Email Bison, as far as saving a key needs it: `GET /api/users` names the workspace the key
// reads. start-server.sh points MAVERICK_BISON_URL at this port (the e2e port + 1).
let bison: http.Server;
test.beforeAll(async () => {
  bison = http.createServer((req, res) => {
    const known = req.url === '/api/users' && req.headers.authorization === 'Bearer bison-live-key-XYZ9';
    res.writeHead(known ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(known
      ? { data: { id: 3, email: 'ops@agency.test', current_team_id: 4242, team: { id: 4242, name: 'Northside Plumbing' } } }
      : { message: 'Unauthenticated.' }));
  });
  await new Promise<void>((done) => bison.listen(Number(process.env.E2E_PORT || 3100) + 1, '127.0.0.1', done));
});
test.afterAll(async () => {
  await new Promise((done) => bison.close(done));
});

test('an admin edits a client: targets, Bison key (masked, never shown), costs and ZIPs', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/clients');
  await page.getByRole('link', { name: 'Northside Plumbing' }).click();
  await expect(page).toHaveURL(/\/admin\/clients\/northside-plumbing$/);
  await expect(page.locator('[data-testid=client-name]')).toHaveText('Northside Plumbing');
  await hydrated(page); // the success notes below are the hydrated page's

  const settings = page.locator('[data-testid=workspace-settings]');
  await settings.locator('input[name=monthly_lead_target]').fill('55');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.locator('[data-testid=workspace-settings] input[name=monthly_lead_target]')).toHaveValue('55');

  // A key that reads another Email Bison workspace than the one typed is refused, not stored.
  await page.locator('input[name=bison_workspace_id]:not([type=hidden])').fill('9999');
  await page.locator('input[name=api_key]:not([type=hidden])').fill('bison-live-key-XYZ9');
  await page.getByRole('button', { name: 'Save credentials' }).click();
  await expect(page.getByRole('alert')).toContainText('This key reads Email Bison workspace 4242 (Northside Plumbing), not workspace 9999; nothing was saved');
  await page.locator('input[name=bison_workspace_id]:not([type=hidden])').fill('4242');
  await page.locator('input[name=api_key]:not([type=hidden])').fill('bison-live-key-XYZ9');
  await page.getByRole('button', { name: 'Save credentials' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved: the key reads' }))
    .toHaveText('Saved: the key reads Email Bison workspace 4242 (Northside Plumbing) as ops@agency.test.');
  await expect(page.locator('[data-testid=bison-key]')).toHaveText('••••XYZ9');
  await expect(page.locator('[data-testid=bison-key-reads]')).toContainText('workspace 4242 (Northside Plumbing) as ops@agency.test');
  await page.reload();
  await hydrated(page);
  expect(await page.content()).not.toContain('bison-live-key-XYZ9');
  await expect(page.locator('input[name=api_key]:not([type=hidden])')).toHaveValue('');

  const add = page.locator('[data-testid=add-cost]');
  await add.locator('input[name=category]').fill('lists');
  await add.locator('input[name=amount]').fill('123.45');
  await add.locator('select[name=recurrence]').selectOption('one_off');
  await add.locator('input[name=starts_on]').fill('2026-11-02');
  await add.getByRole('button', { name: 'Add cost' }).click();
  await expect(page.locator('[data-testid=costs-table]')).toContainText('$123.45');

  await page.locator('input[name=zip]:not([type=hidden])').fill('2108');
  await page.locator('input[name=state_code]').fill('ma');
  await page.getByRole('button', { name: 'Assign ZIP' }).click();
  await expect(page.locator('[data-testid=zip-list]')).toContainText('02108');
  await page.locator('input[name=zip]:not([type=hidden])').fill('ABCDE');
  await page.getByRole('button', { name: 'Assign ZIP' }).click();
  await expect(page.getByRole('alert')).toContainText('is not a US ZIP code');
});

test('a ZIP held by two clients is flagged on both profiles', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/clients/glow-med-spa');
  await expect(page.locator('[data-testid=zip-conflicts]')).toContainText('78701 is also assigned to Bright Smile Dental');
});

test('a client is refused client profiles', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/admin/clients/acme-roofing'))!.status()).toBe(403);
});

// A table that would be only a header says what belongs there instead (issue 12, item 9).
test('a new client without costs says so instead of an empty costs table', async ({ page }) => {
  const name = `No Costs ${Date.now()}`;
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/clients');
  const form = page.getByTestId('create-workspace');
  await form.locator('input[name=name]').fill(name);
  await form.getByRole('button', { name: 'Create workspace' }).click();
  await page.getByRole('link', { name }).click();
  await expect(page.getByTestId('client-name')).toHaveText(name);
  await expect(page.getByTestId('no-costs')).toHaveText(
    'No costs recorded yet: revenue counts as profit until you add them below (software, inboxes, data).',
  );
  await expect(page.getByTestId('costs-table').locator('tbody tr')).toHaveCount(0);
  await archiveWorkspace(page, name);
});
