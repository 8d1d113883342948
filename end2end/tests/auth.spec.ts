import { test, expect } from '@playwright/test';
import { ADMIN, CLIENT, VIEWER, hasSessionCookie, isLoginRedirectFor, login, submitLogin } from './helpers';

test.describe('sign-in and access control', () => {
  test('admin signs in and sees the admin home', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);

    await expect(page).toHaveURL((url) => url.pathname === '/admin');
    await expect(page.getByTestId('admin-home')).toHaveText('Agency overview');
    expect(await hasSessionCookie(page)).toBe(true);
  });

  test('a wrong password shows an error and stays signed out', async ({ page }) => {
    // The viewer's account, so this refusal never counts towards throttling the admin's.
    await page.goto('/login');
    await submitLogin(page, VIEWER.email, 'not-the-right-password');

    await expect(page).toHaveURL((url) => url.pathname === '/login' && url.searchParams.get('error') === 'credentials');
    await expect(page.getByTestId('login-error')).toContainText('Wrong email or password.');
    expect(await hasSessionCookie(page)).toBe(false);
    // The email is kept for the next try (issue 12); the password is never sent back.
    await expect(page.locator('input[name=email]')).toHaveValue(VIEWER.email);
    await expect(page.locator('input[name=password]')).toHaveValue('');
    expect(page.url()).not.toContain('not-the-right-password');

    await page.goto('/client-portal');
    await expect(page).toHaveURL(isLoginRedirectFor('/client-portal'));
    await expect(page.getByTestId('workspace-list')).toHaveCount(0);
  });

  test('a client lands in the portal and sees only their own workspace', async ({ page }) => {
    await login(page, CLIENT.email, CLIENT.password);

    // Their only workspace: the hub sends them straight to its board (issue 12).
    await expect(page).toHaveURL((url) => url.pathname === '/client-portal/acme-roofing');
    await expect(page.getByTestId('workspace-name')).toHaveText('Acme Roofing');
    await expect(page.getByTestId('workspace-list')).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText('Summit Realty Group');
  });

  test('a client is refused admin pages (403) and other workspaces (404)', async ({ page }) => {
    await login(page, CLIENT.email, CLIENT.password);

    for (const path of ['/admin', '/admin/users', '/admin/clients']) {
      const resp = await page.goto(path);
      expect(resp, `response for ${path}`).not.toBeNull();
      expect(resp!.status(), `status of ${path}`).toBe(403);
      await expect(page, `${path} is not redirected away`).toHaveURL((url) => url.pathname === path);
      await expect(page.getByTestId('forbidden')).toBeVisible();
      await expect(page.getByTestId('admin-home')).toHaveCount(0);
      await expect(page.getByTestId('users-table')).toHaveCount(0);
      await expect(page.getByTestId('workspaces-table')).toHaveCount(0);
      // Nothing admin-only travels in the page either (e.g. serialized server-function data).
      const html = await resp!.text();
      expect(html, `${path} must not carry other users' emails`).not.toContain(VIEWER.email);
      expect(html, `${path} must not carry other workspaces`).not.toContain('Summit Realty Group');
    }

    const csv = await page.request.get('/admin/users.csv');
    expect(csv.status(), 'users CSV export for a client').toBe(403);
    expect(await csv.text()).not.toContain(ADMIN.email);

    const resp = await page.goto('/client-portal/summit-realty');
    expect(resp).not.toBeNull();
    expect(resp!.status()).toBe(404);
    await expect(page.getByTestId('not-found')).toBeVisible();
    await expect(page.getByTestId('workspace-name')).toHaveCount(0);
    expect(await resp!.text()).not.toContain('Summit Realty Group');
  });

  test('a signed-out visit to a protected page signs in and returns to it', async ({ page }) => {
    await page.goto('/admin/users');
    // The host sends `next=/admin/users` ('/' left unencoded); `%2Fadmin%2Fusers` would match too.
    await expect(page).toHaveURL(isLoginRedirectFor('/admin/users'));

    await submitLogin(page, ADMIN.email, ADMIN.password);

    await expect(page).toHaveURL((url) => url.pathname === '/admin/users');
    await expect(page.getByTestId('users-table')).toBeVisible();
  });

  test('signing out ends the session and Back shows nothing private', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await expect(page).toHaveURL((url) => url.pathname === '/admin');
    await expect(page.getByTestId('admin-home')).toBeVisible();

    await page.locator('details.account-menu > summary').click();
    await page.getByTestId('logout').click();

    await expect(page).toHaveURL((url) => url.pathname === '/login' && url.searchParams.get('signed_out') === '1');
    await expect(page.getByText('You are signed out.')).toBeVisible();
    expect(await hasSessionCookie(page)).toBe(false);

    // Back to /admin: the page was sent with Cache-Control: no-store, so the browser asks the
    // server again, which now sends it to sign in.
    await page.goBack();
    await expect(page).toHaveURL(isLoginRedirectFor('/admin'));
    await expect(page.getByTestId('admin-home')).toHaveCount(0);
    await expect(page.locator('body')).not.toContainText('Agency overview');

    await page.goto('/admin');
    await expect(page).toHaveURL(isLoginRedirectFor('/admin'));
    await expect(page.getByTestId('admin-home')).toHaveCount(0);
  });
});
