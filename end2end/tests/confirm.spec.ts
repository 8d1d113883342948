import { readFile } from 'node:fs/promises';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { ADMIN, archiveWorkspace, hydrated, login } from './helpers';

// Destructive actions ask first (issue 12, item 8): the first click only opens a panel that
// says what will happen; "Cancel" (or Escape) closes it; the button inside it acts.
// Each test acts on something it created itself, so other specs' data is left alone.

// Several steps, each a round trip with a reload: more than the default 30 s on a busy machine.
test.describe.configure({ timeout: 120_000 });

/** The confirmation of `label` in `scope`: its button, its panel and the panel's Cancel. */
function confirmation(scope: Locator, label: string) {
  const details = scope.locator('details.confirm').filter({ has: scope.page().locator('summary', { hasText: label }) });
  return { button: details.locator('summary'), panel: details.getByRole('group'), cancel: details.getByRole('button', { name: 'Cancel' }) };
}

async function createWorkspace(page: Page, name: string, js = true) {
  await page.goto('/admin/clients');
  if (js) await hydrated(page);
  const form = page.getByTestId('create-workspace');
  await form.locator('input[name=name]').fill(name);
  await form.getByRole('button', { name: 'Create workspace' }).click();
  await expect(page.getByTestId('workspaces-table').getByRole('row').filter({ hasText: name })).toHaveCount(1);
}

async function createUser(page: Page, email: string) {
  await page.goto('/admin/users');
  await hydrated(page);
  const form = page.getByTestId('create-user');
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=display_name]').fill('Confirm Test');
  await form.locator('select[name=role]').selectOption('client');
  await form.locator('input[name=password]').fill('e2e-password-0123');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByTestId('users-table').getByRole('row').filter({ hasText: email })).toHaveCount(1);
}

test('archiving a workspace asks first; Cancel and Escape leave it active; Confirm archives it', async ({ page }) => {
  const name = `Confirm Archive ${Date.now()}`;
  await login(page, ADMIN.email, ADMIN.password);
  await createWorkspace(page, name);
  const row = page.getByTestId('workspaces-table').getByRole('row').filter({ hasText: name });
  const archive = confirmation(row, 'Archive');
  await expect(archive.panel).toBeHidden();

  // The first click only asks, and says what will happen.
  await archive.button.click();
  await expect(archive.panel).toBeVisible();
  await expect(archive.cancel).toBeVisible(); // shown once the page is hydrated
  await expect(archive.panel).toContainText(`Archive ${name}? It leaves the dashboards, and its pipeline, syncs and personalization become read-only. Nobody has access to it yet. You can restore it at any time.`);
  await expect(row.locator('td').nth(2)).toHaveText('active');

  // Cancel closes it, focus goes back to the button, nothing changed (also after a reload).
  await archive.cancel.click();
  await expect(archive.panel).toBeHidden();
  await expect(archive.button).toBeFocused();
  await page.reload();
  await hydrated(page);
  await expect(row.locator('td').nth(2)).toHaveText('active');

  // Keyboard: Enter opens, Escape closes, Enter again, Tab to the action, Enter does it.
  await archive.button.focus();
  await page.keyboard.press('Enter');
  await expect(archive.panel).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(archive.panel).toBeHidden();
  await expect(archive.button).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(row.getByRole('button', { name: `Archive ${name}` })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(row.locator('td').nth(2)).toHaveText('archived');
  await page.reload();
  await hydrated(page);
  await expect(row.locator('td').nth(2)).toHaveText('archived');
  // Restoring is harmless: one click.
  await row.getByRole('button', { name: 'Restore' }).click();
  await expect(row.locator('td').nth(2)).toHaveText('active');
  await archiveWorkspace(page, name);
});

test('disabling a user asks first and says they are signed out; the admin cannot disable themselves', async ({ page }) => {
  const email = `confirm-${Date.now()}@example.test`;
  await login(page, ADMIN.email, ADMIN.password);
  await createUser(page, email);
  const table = page.getByTestId('users-table');
  const row = table.getByRole('row').filter({ hasText: email });
  const disable = confirmation(row, 'Disable');

  await disable.button.click();
  await expect(disable.panel).toContainText(
    `Disable ${email}? They are signed out everywhere at once and can't sign in until an admin enables the account again.`,
  );
  await expect(row.locator('td').nth(3)).toHaveText('active');
  await disable.cancel.click();
  await expect(disable.panel).toBeHidden();
  await page.reload();
  await hydrated(page);
  await expect(row.locator('td').nth(3)).toHaveText('active');

  await disable.button.click();
  await row.getByRole('button', { name: `Disable ${email}` }).click();
  await expect(row.locator('td').nth(3)).toHaveText('disabled');
  await expect(row.getByRole('button', { name: 'Enable' })).toBeVisible();

  // The admin's own row offers no Disable at all…
  const mine = table.getByRole('row').filter({ hasText: ADMIN.email });
  await expect(mine.getByTestId('self-row')).toHaveText("You can't disable yourself");
  await expect(mine.locator('details.confirm')).toHaveCount(0);

  // …and the server refuses it anyway, with words that say why.
  const link = page.locator('a[href^="/admin/users.csv"]');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const csv = (await readFile(await download.path(), 'utf8')).replace(/^\uFEFF/, '');
  const adminId = csv.split(/\r?\n/).find((l) => l.includes(ADMIN.email))!.split(',')[0];
  const res = await page.request.post('/api/admin/users/set_disabled', { form: { user_id: adminId, disabled: 'true' } });
  expect(res.status()).toBe(400);
  expect(await res.text()).toContain("You can't disable your own account: ask another admin to do it.");
  await page.reload();
  await hydrated(page);
  await expect(mine.locator('td').nth(3)).toHaveText('active');
});

test('deleting a cost asks first, naming the cost; Cancel keeps it; Confirm deletes it', async ({ page }) => {
  const description = `confirm-${Date.now()}`;
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/clients/summit-realty');
  await hydrated(page);
  const add = page.getByTestId('add-cost');
  await add.locator('input[name=category]').fill('lists');
  await add.locator('input[name=description]').fill(description);
  await add.locator('input[name=amount]').fill('12.34');
  await add.locator('select[name=recurrence]').selectOption('one_off');
  await add.locator('input[name=starts_on]').fill('2026-11-02');
  await add.getByRole('button', { name: 'Add cost' }).click();
  const row = page.getByTestId('costs-table').getByRole('row').filter({ hasText: description });
  await expect(row).toHaveCount(1);

  const del = confirmation(row, 'Delete');
  await del.button.click();
  await expect(del.panel).toContainText(`Delete the one-off cost "lists — ${description}" of $12.34? This month's costs, profit and ROI change at once. This can't be undone.`);
  await del.cancel.click();
  await expect(del.panel).toBeHidden();
  await page.reload();
  await hydrated(page);
  await expect(row).toHaveCount(1);

  await del.button.click();
  await row.getByRole('button', { name: 'Delete the cost' }).click();
  await expect(page.getByText('Cost deleted.')).toBeVisible();
  await expect(row).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('costs-table')).not.toContainText(description);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the first click on Archive only opens the question; the confirm button archives', async ({ page }) => {
    const name = `Confirm NoJS ${Date.now()}`;
    await login(page, ADMIN.email, ADMIN.password);
    await createWorkspace(page, name, false);
    const row = page.getByTestId('workspaces-table').getByRole('row').filter({ hasText: name });
    const archive = confirmation(row, 'Archive');
    await archive.button.click();
    await expect(archive.panel).toBeVisible();
    // "Cancel" needs JavaScript: not offered; the button itself closes the panel.
    await expect(archive.cancel).toBeHidden();
    await page.reload();
    await expect(row.locator('td').nth(2)).toHaveText('active');
    await archive.button.click();
    await row.getByRole('button', { name: `Archive ${name}` }).click();
    await expect(page).toHaveURL(/\/admin\/clients/);
    await expect(row.locator('td').nth(2)).toHaveText('archived');
  });
});
