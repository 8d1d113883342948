import { readFile } from 'node:fs/promises';
import { test, expect } from '@playwright/test';
import { ADMIN, CLIENT, VIEWER, login } from './helpers';

test.describe('admin: users', () => {
  test('creates a user who then appears in the users table', async ({ page }) => {
    const stamp = Date.now();
    const email = `e2e-user-${stamp}@example.test`;
    const name = `E2E Person ${stamp}`;

    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/users');
    const table = page.getByTestId('users-table');
    await expect(table).toBeVisible();
    await expect(table.getByRole('row').filter({ hasText: email })).toHaveCount(0);

    const form = page.getByTestId('create-user');
    await form.locator('input[name=email]').fill(email);
    await form.locator('input[name=display_name]').fill(name);
    await form.locator('select[name=role]').selectOption('client');
    await form.locator('input[name=password]').fill('e2e-password-0123');
    await form.getByRole('button', { name: 'Create user' }).click();

    // After the server action the table is fetched again (or, before hydration, the page reloads).
    const row = table.getByRole('row').filter({ hasText: email });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(name);
    const cells = row.locator('td');
    await expect(cells.nth(2)).toHaveText('client'); // Role
    await expect(cells.nth(4)).toHaveText('never'); // Last sign-in
  });

  test('exports the users as CSV', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/users');

    const link = page.locator('a[href^="/admin/users.csv"]');
    await expect(link).toBeVisible();
    const downloadPromise = page.waitForEvent('download');
    await link.click();
    const download = await downloadPromise;

    expect(download.suggestedFilename()).toBe('users.csv');
    const path = await download.path();
    const text = (await readFile(path, 'utf8')).replace(/^\uFEFF/, ''); // the file starts with a BOM
    const [header] = text.split(/\r?\n/);
    expect(header.startsWith('id,email,name,role')).toBe(true);
    expect(text).toContain(ADMIN.email);
    expect(text).toContain(CLIENT.email);
  });

  test('the filter narrows the table and is kept in the URL', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/users');
    const table = page.getByTestId('users-table');
    await expect(table).toContainText(ADMIN.email);

    await page.locator('input[name=q]').fill('viewer');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();

    await expect(page).toHaveURL((url) => url.pathname === '/admin/users' && url.searchParams.get('q') === 'viewer');
    const rows = table.locator('tbody > tr');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText(VIEWER.email);
    await expect(table).not.toContainText(ADMIN.email);
    await expect(table).not.toContainText(CLIENT.email);
    // The export downloads what is shown.
    await expect(page.locator('a[href^="/admin/users.csv"]')).toHaveAttribute('href', /[?&]q=viewer(&|$)/);
  });
});

test.describe('theme', () => {
  // A light system theme, so the first switch from "auto" goes to dark.
  test.use({ colorScheme: 'light' });

  test('the toggle flips the theme and the choice survives a reload', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await expect(page.getByTestId('admin-home')).toBeVisible();
    const html = page.locator('html');
    const toggle = page.getByRole('button', { name: 'Switch light/dark theme' });

    await toggle.click();
    await expect(html).toHaveAttribute('data-theme', 'dark');
    await page.reload();
    await expect(html).toHaveAttribute('data-theme', 'dark');

    await toggle.click();
    await expect(html).toHaveAttribute('data-theme', 'light');
    await page.reload();
    await expect(html).toHaveAttribute('data-theme', 'light');

    const theme = (await page.context().cookies()).find((c) => c.name === 'maverick_theme');
    expect(theme?.value).toBe('light');
  });
});
