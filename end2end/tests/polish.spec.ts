import { expect, test, type Page } from '@playwright/test';
import { ADMIN, CLIENT, login, setTheme } from './helpers';

// What only a browser can see (issue 12, items 4, 11, 12, 13): chart text in dark mode, the sticky
// first column, the header in one row at 1440 px, the menu at 390 px, badge contrast.

/** WCAG contrast of each element's text against what is painted behind it (alpha layers blended). */
async function contrasts(page: Page, selector: string): Promise<{ text: string; ratio: number }[]> {
  return page.locator(selector).evaluateAll((els) => {
    type C = { r: number; g: number; b: number; a: number };
    const parse = (c: string): C | null => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const over = (top: C, under: C): C => ({
      r: top.r * top.a + under.r * (1 - top.a),
      g: top.g * top.a + under.g * (1 - top.a),
      b: top.b * top.a + under.b * (1 - top.a),
      a: 1,
    });
    const background = (el: Element): C => {
      const layers: C[] = [];
      for (let e: Element | null = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0) {
          layers.push(c);
          if (c.a >= 1) break;
        }
      }
      return layers.reverse().reduce((acc, l) => over(l, acc), { r: 255, g: 255, b: 255, a: 1 });
    };
    const lum = (c: C) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
      return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    return els.map((el) => {
      const bg = background(el);
      const fg = over(parse(getComputedStyle(el).color)!, bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      return { text: (el.textContent || '').trim(), ratio: (hi + 0.05) / (lo + 0.05) };
    });
  });
}

/** The option ECharts is drawing in `#id` (null until drawn). */
async function chartOption(page: Page, id: string): Promise<any> {
  return page.evaluate((id) => {
    const el = document.getElementById(id);
    const chart = el && (window as any).echarts?.getInstanceByDom(el);
    return chart ? JSON.parse(JSON.stringify(chart.getOption())) : null;
  }, id);
}

test.describe('dark mode charts', () => {
  test.setTimeout(60_000); // the debug WASM is large; charts draw once it has loaded
  test('legend and axis text use the theme colours, and a toggle redraws them', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await setTheme(page, 'dark');
    await page.goto('/admin/volume');
    await expect(page.locator('#volume-chart canvas')).toHaveCount(1, { timeout: 30_000 });
    // style/main.css, dark theme: --text #e2e8f0, --muted #a3b1c6 (both over 7:1 on the card's #1e293b).
    await expect.poll(async () => (await chartOption(page, 'volume-chart'))?.legend?.[0]?.textStyle?.color).toBe('#e2e8f0');
    const dark = await chartOption(page, 'volume-chart');
    expect(dark.xAxis[0].axisLabel.color).toBe('#a3b1c6');
    expect(dark.yAxis[0].axisLabel.color).toBe('#a3b1c6');
    expect(dark.yAxis[0].nameTextStyle.color).toBe('#a3b1c6');
    expect(dark.backgroundColor).toBe('transparent');

    // Light: --text #0f172a, --muted #475569; the chart follows the toggle without a reload.
    await page.getByRole('button', { name: 'Switch light/dark theme' }).click();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
    await expect.poll(async () => (await chartOption(page, 'volume-chart'))?.legend?.[0]?.textStyle?.color).toBe('#0f172a');
    expect((await chartOption(page, 'volume-chart')).xAxis[0].axisLabel.color).toBe('#475569');
  });

  test('on "auto" the chart follows the system switching between light and dark', async ({ page }) => {
    await page.emulateMedia({ colorScheme: 'light' });
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/volume');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'auto');
    await expect(page.locator('#volume-chart canvas')).toHaveCount(1, { timeout: 30_000 });
    await expect.poll(async () => (await chartOption(page, 'volume-chart'))?.legend?.[0]?.textStyle?.color).toBe('#0f172a');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(async () => (await chartOption(page, 'volume-chart'))?.legend?.[0]?.textStyle?.color).toBe('#e2e8f0');
  });

  test('the ZIP map gives every workspace its own colour and themes its legend', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await setTheme(page, 'dark');
    await page.goto('/admin/zips');
    await expect(page.locator('#zip-map canvas')).toHaveCount(1, { timeout: 30_000 });
    await expect.poll(async () => (await chartOption(page, 'zip-map'))?.legend?.[0]?.textStyle?.color).toBe('#e2e8f0');
    const option = await chartOption(page, 'zip-map');
    const colours: string[] = option.series.filter((s: any) => s.name !== 'Conflicts').map((s: any) => s.itemStyle.color);
    expect(colours).toHaveLength(12); // the 12 demo workspaces all hold ZIPs
    expect(new Set(colours).size).toBe(12);
  });
});

test.describe('wide tables', () => {
  test('the KPI and ROI tables fit at 1440 px', async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, ADMIN.email, ADMIN.password);
    for (const path of ['/admin/kpi', '/admin/roi']) {
      await page.goto(path);
      const wrap = page.locator('.table-wrap').first();
      const [scroll, client] = await wrap.evaluate((w) => [w.scrollWidth, w.clientWidth]);
      expect(scroll, `${path}: the table is wider than its frame`).toBeLessThanOrEqual(client);
      // The last column ("30-day trend" on KPI) is on screen.
      const last = page.locator('thead th').last();
      const box = (await last.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(1440);
    }
  });

  test('scrolling a table sideways keeps its first column (the row labels) in view', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/kpi');
    const wrap = page.locator('.table-wrap').first();
    const label = page.locator('[data-testid=kpi-table] tbody tr').first().locator('td').first();
    const second = page.locator('[data-testid=kpi-table] tbody tr').first().locator('td').nth(1);
    const before = { label: (await label.boundingBox())!, second: (await second.boundingBox())! };
    await wrap.evaluate((w) => (w.scrollLeft = 300));
    await expect.poll(async () => (await second.boundingBox())!.x).toBeLessThan(before.second.x - 250);
    const after = (await label.boundingBox())!;
    expect(Math.abs(after.x - before.label.x)).toBeLessThan(1);
    // Still readable: nothing paints over it (the cell under its centre is the label itself).
    const top = await page.evaluate(([x, y]) => document.elementFromPoint(x, y)?.closest('td')?.cellIndex, [after.x + 10, after.y + after.height / 2]);
    expect(top).toBe(0);
  });
});

test.describe('header and menu', () => {
  test('at 1440 px the admin header is one row with all 13 links', async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/kpi');
    const nav = page.locator('nav.main-nav');
    const links = nav.getByRole('link');
    await expect(links).toHaveCount(13);
    const tops = new Set<number>();
    for (const box of await links.evaluateAll((as) => as.map((a) => a.getBoundingClientRect()))) {
      tops.add(Math.round(box.top));
      expect(box.right).toBeLessThanOrEqual(1440);
    }
    expect(tops.size).toBe(1);
    const [navScroll, navClient] = await nav.evaluate((n) => [n.scrollWidth, n.clientWidth]);
    expect(navScroll).toBeLessThanOrEqual(navClient);
    // One row: the account menu and theme toggle sit on the links' line.
    const header = (await page.locator('header.topbar').boundingBox())!;
    expect(header.height).toBeLessThan(70);
    await expect(page.getByTestId('nav-menu')).toBeHidden();
  });

  test('at 390 px every link is in a keyboard-operable "Menu", which closes after a choice', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/kpi');
    await expect(page.locator('nav.main-nav')).toBeHidden();
    const summary = page.getByTestId('nav-menu');
    await expect(summary).toBeVisible();
    await expect(summary).toHaveText('Menu');
    await summary.focus();
    // Escape closes it again, with the focus back on "Menu".
    await page.keyboard.press('Enter');
    await expect(page.locator('.nav-menu')).toHaveAttribute('open', /.*/);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    await expect(page.locator('.nav-menu')).not.toHaveAttribute('open', /.*/);
    await expect(summary).toBeFocused();
    await page.keyboard.press('Enter');
    const menu = page.locator('.nav-menu nav');
    await expect(menu.getByRole('link')).toHaveCount(13);
    for (const box of await menu.getByRole('link').evaluateAll((as) => as.map((a) => a.getBoundingClientRect()))) {
      expect(box.right).toBeLessThanOrEqual(390); // on screen, not in a sideways strip
      expect(box.width).toBeGreaterThan(0);
    }
    // Tab through to "Senders" (the 6th link) and follow it.
    for (let i = 0; i < 6; i++) await page.keyboard.press('Tab');
    await expect(menu.getByRole('link', { name: 'Senders' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/admin\/senders$/);
    await expect(page.locator('.nav-menu')).not.toHaveAttribute('open', /.*/);
  });

  test('the menu opens without JavaScript too', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await login(page, CLIENT.email, CLIENT.password);
    await page.getByTestId('nav-menu').click();
    await expect(page.locator('.nav-menu nav').getByRole('link', { name: 'Personalization' })).toBeVisible();
    await context.close();
  });

  test('the account menu is named by its visible text', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin');
    const summary = page.locator('.account-menu > summary');
    await expect(summary).not.toHaveAttribute('aria-label', /.*/);
    await expect(summary).toHaveAccessibleName('Avery Admin (account menu)');
    await expect(summary.locator('.account-name')).toHaveText('Avery Admin');
  });
});

test.describe('accessibility of badges, headers and forms', () => {
  for (const theme of ['light', 'dark'] as const) {
    test(`status badges reach 4.5:1 in the ${theme} theme`, async ({ page }) => {
      await login(page, ADMIN.email, ADMIN.password);
      await setTheme(page, theme);
      const seen = new Set<string>();
      for (const path of ['/admin/kpi', '/admin/senders', '/admin/volume', '/admin/zips?show=conflicts']) {
        await page.goto(path);
        const all = await contrasts(page, '.badge');
        expect(all.length, `${path} has badges`).toBeGreaterThan(0);
        for (const { text, ratio } of all) {
          seen.add(text);
          expect(ratio, `"${text}" on ${path}`).toBeGreaterThanOrEqual(4.5);
        }
      }
      for (const word of ['on track', 'at risk', 'behind', 'critical', 'conflict']) expect([...seen]).toContain(word);
    });
  }

  test('checkboxes and radios sit on the line of their text; the campaign table has no empty header', async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/contacts');
    const accept = page.locator('label:has(input[name=accept])');
    const [box, input] = [(await accept.boundingBox())!, (await accept.locator('input').boundingBox())!];
    expect(box.height).toBeLessThan(32); // one line, not checkbox above text
    expect(input.y).toBeGreaterThanOrEqual(box.y);
    expect(input.y + input.height).toBeLessThanOrEqual(box.y + box.height);

    await page.goto('/personalization');
    await page.getByTestId('campaigns').getByRole('link', { name: 'Spring storm follow-up' }).click();
    await expect(page).toHaveURL(/\/personalization\/\d+/);
    for (const th of await page.locator('th').all()) expect((await th.textContent())!.trim()).not.toBe('');
    // The writer choice: each radio on the line of its text.
    const radios = page.locator('label:has(input[type=radio])');
    await expect(radios).toHaveCount(2);
    for (const r of await radios.all()) expect((await r.boundingBox())!.height).toBeLessThan(32);
    // A first line (about 120 characters) is readable in its box: at least 20 rem wide.
    const line = page.locator('textarea[name=line]').first();
    expect((await line.boundingBox())!.width).toBeGreaterThanOrEqual(320);
  });
});

test('client access: every workspace in one form with one Save', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/personalization');
  const form = page.getByTestId('client-access');
  const boxes = form.getByRole('checkbox');
  // The 12 demo workspaces (more if another spec of this run created some), one button for all.
  await expect(boxes.nth(11)).toBeVisible();
  await expect(form.getByRole('button')).toHaveCount(1);
  const before = await boxes.evaluateAll((bs) => bs.map((b) => (b as HTMLInputElement).checked));
  // Flip the first two boxes, save once; both changes are stored, the others untouched.
  await boxes.nth(0).setChecked(!before[0]);
  await boxes.nth(1).setChecked(!before[1]);
  // One request (with the WASM, or as a plain form post before it has loaded).
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/personalization/client_access') && r.request().method() === 'POST');
  await form.getByRole('button', { name: 'Save client access' }).click();
  expect((await saved).status()).toBeLessThan(400);
  await page.goto('/personalization');
  const after = await boxes.evaluateAll((bs) => bs.map((b) => (b as HTMLInputElement).checked));
  expect(after).toEqual([!before[0], !before[1], ...before.slice(2)]);
  // A box sits beside its workspace's name.
  expect((await form.locator('label').first().boundingBox())!.height).toBeLessThan(32);
});
