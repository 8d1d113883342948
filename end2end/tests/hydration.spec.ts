import { expect, test, type Page } from '@playwright/test';
import { ADMIN, ADMIN_PAGES, CLIENT, login } from './helpers';

/** Opens each page and fails on any browser-side error (a hydration mismatch panics the WASM). */
async function visitCleanly(page: Page, paths: string[]) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text().slice(0, 300)}`);
  });
  for (const path of paths) {
    await page.goto(path);
    // The WASM is fetched and run (hydration) before the network goes quiet.
    await page.waitForLoadState('networkidle');
  }
  expect(errors).toEqual([]);
}

test('every admin page hydrates without a browser error', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await visitCleanly(page, [...ADMIN_PAGES]);
});

test('every portal page hydrates without a browser error', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto('/client-portal/acme-roofing');
  const lead = await page.locator('a.lead-name').first().getAttribute('href');
  await visitCleanly(page, ['/client-portal', '/client-portal/acme-roofing', lead!, '/account/password']);
});
