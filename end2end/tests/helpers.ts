import { expect, test, type Page } from '@playwright/test';

/** The logins `server --demo` seeds (backend/src/demo.rs). */
export const ADMIN = { email: 'admin@demo.maverick', password: 'demo-admin-pass' } as const;
export const CLIENT = { email: 'client@demo.maverick', password: 'demo-client-pass' } as const;
export const VIEWER = { email: 'viewer@demo.maverick', password: 'demo-viewer-pass' } as const;

/** The admin's main pages (a signed-in admin reaches each from the navigation). */
export const ADMIN_PAGES = [
  '/admin',
  '/admin/kpi',
  '/admin/volume',
  '/admin/revenue',
  '/admin/roi',
  '/admin/senders',
  '/admin/contacts',
  '/admin/automations',
  '/admin/prospects',
  '/admin/zips',
  '/admin/rollout',
  '/admin/clients',
  '/admin/clients/acme-roofing',
  '/admin/users',
  '/admin/integrations',
  '/personalization',
  '/personalization/1',
] as const;

/** The theme cookie (app/src/components/theme.rs). */
export const THEME_COOKIE = 'maverick_theme';

/** Sets the theme the next page load renders with. */
export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const url = new URL(test.info().project.use.baseURL!);
  await page.context().addCookies([{ name: THEME_COOKIE, value: theme, domain: url.hostname, path: '/' }]);
}

/** The session cookie's name (server/src/session_layer.rs). */
export const SESSION_COOKIE = 'maverick_session';

/** Fills and submits the sign-in form of the page already shown (`/login`, maybe with `?next=`). */
export async function submitLogin(page: Page, email: string, password: string): Promise<void> {
  const form = page.locator('form[action="/auth/login"]');
  await form.locator('input[name=email]').fill(email);
  await form.locator('input[name=password]').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in from `/login` and waits until the browser has left the sign-in page. */
export async function login(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await submitLogin(page, email, password);
  await expect(page, `signing in as ${email} should leave /login`).toHaveURL((url) => url.pathname !== '/login');
}

/** Whether the browser context holds a session cookie. */
export async function hasSessionCookie(page: Page): Promise<boolean> {
  const cookies = await page.context().cookies();
  return cookies.some((c) => c.name === SESSION_COOKIE && c.value !== '');
}

/** Matches `/login?next=<path>` however `next` is percent-encoded (`/admin` or `%2Fadmin`). */
export function isLoginRedirectFor(path: string): (url: URL) => boolean {
  return (url) => url.pathname === '/login' && url.searchParams.get('next') === path;
}

/** Waits until the page's WASM has run (`data-hydrated`, set by frontend/src/lib.rs), if the page
 *  loads one (sign-in does not). */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-hydrated') || !document.querySelector('link[rel=modulepreload]'));
}

/** Archives a workspace a test created, through the clients page's confirmation, so the demo's
 *  counts that other specs pin (12 active workspaces) stay true. */
export async function archiveWorkspace(page: Page, name: string): Promise<void> {
  await page.goto('/admin/clients');
  await hydrated(page);
  const row = page.getByTestId('workspaces-table').getByRole('row').filter({ hasText: name });
  await row.locator('details.confirm summary', { hasText: 'Archive' }).click();
  await row.getByRole('button', { name: `Archive ${name}` }).click();
  await expect(row.locator('td').nth(2)).toHaveText('archived');
}
