import { test, expect } from '@playwright/test';
import { ADMIN, isLoginRedirectFor, login, submitLogin } from './helpers';

// The sign-in form and the theme toggle are plain HTML forms so that they work before the WASM
// has loaded (and without it). With JavaScript off these paths are exercised deterministically;
// with it on, a quick user (or test) can submit them before hydration.
test.describe('before hydration / without JavaScript', () => {
  test.use({ javaScriptEnabled: false, colorScheme: 'light' });

  test('signing in from a redirect returns to the page asked for', async ({ page }) => {
    await page.goto('/admin/users');
    await expect(page).toHaveURL(isLoginRedirectFor('/admin/users'));
    // The hidden `next` field must carry the path in the server-rendered HTML itself.
    await expect(page.locator('form[action="/auth/login"] input[name=next]')).toHaveValue('/admin/users');

    await submitLogin(page, ADMIN.email, ADMIN.password);

    await expect(page).toHaveURL((url) => url.pathname === '/admin/users');
    await expect(page.getByTestId('users-table')).toBeVisible();
  });

  test('the theme toggle switches the theme and stays on the page', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/users');
    const html = page.locator('html');

    await page.getByRole('button', { name: 'Switch light/dark theme' }).click();

    await expect(html).toHaveAttribute('data-theme', 'dark');
    await expect(page).toHaveURL((url) => url.pathname === '/admin/users');
  });

  test('sign-out works and the protected page is gone', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await expect(page.getByTestId('admin-home')).toBeVisible();

    await page.locator('details.account-menu > summary').click();
    await page.getByTestId('logout').click();
    await expect(page).toHaveURL((url) => url.pathname === '/login' && url.searchParams.get('signed_out') === '1');

    await page.goto('/admin');
    await expect(page).toHaveURL(isLoginRedirectFor('/admin'));
  });
});
