import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, ADMIN_PAGES, CLIENT, VIEWER, hydrated, login, setTheme } from './helpers';

// The main pages of each role, checked by axe-core (WCAG 2.1 A and AA, plus the rule that the
// accessible name of a control contains its visible text) in light and in dark mode. A serious or
// critical violation fails the test; the others are printed, to be read.

const ADMIN_MAIN_PAGES = [...ADMIN_PAGES, '/client-portal', '/account/password'];
const CLIENT_PAGES = ['/client-portal', '/client-portal/acme-roofing', '/personalization', '/account/password'];
const VIEWER_PAGES = ['/client-portal'];

async function audit(page: Page, theme: 'light' | 'dark', paths: string[]) {
  await setTheme(page, theme);
  const serious: string[] = [];
  for (const path of paths) {
    await page.goto(path);
    await hydrated(page);
    const result = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .options({ rules: { 'label-content-name-mismatch': { enabled: true } } })
      .analyze();
    for (const v of result.violations) {
      const where = v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`);
      const line = `${theme} ${path} [${v.impact}] ${v.id}: ${v.help}\n      ${where.join('\n      ')}`;
      if (v.impact === 'serious' || v.impact === 'critical') serious.push(line);
      else console.log(`a11y (${v.impact}): ${line}`);
    }
  }
  expect(serious, serious.join('\n')).toEqual([]);
}

test('the checker finds violations it must find', async ({ page }) => {
  await page.goto('/login');
  await page.evaluate(() => {
    const p = document.createElement('p');
    p.textContent = 'Grey on white';
    p.style.cssText = 'color:#aaa;background:#fff';
    const img = document.createElement('img');
    img.src = '/favicon.svg';
    document.querySelector('main')!.append(p, img);
  });
  const ids = (await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze()).violations.map((v) => v.id);
  expect(ids).toEqual(expect.arrayContaining(['color-contrast', 'image-alt']));
});

for (const theme of ['light', 'dark'] as const) {
  test.describe(`${theme} mode`, () => {
    test.describe.configure({ timeout: 240_000 });

    test('sign-in has no serious accessibility violation', async ({ page }) => {
      await audit(page, theme, ['/login']);
    });

    test('admin pages have no serious accessibility violation', async ({ page }) => {
      await login(page, ADMIN.email, ADMIN.password);
      await audit(page, theme, ADMIN_MAIN_PAGES);
    });

    test('client pages have no serious accessibility violation', async ({ page }) => {
      await login(page, CLIENT.email, CLIENT.password);
      await page.goto('/client-portal/acme-roofing');
      const lead = await page.locator('a[href*="/leads/"]').first().getAttribute('href');
      await audit(page, theme, [...CLIENT_PAGES, lead!]);
    });

    test('viewer pages have no serious accessibility violation', async ({ page }) => {
      await login(page, VIEWER.email, VIEWER.password);
      await audit(page, theme, VIEWER_PAGES);
    });
  });
}
