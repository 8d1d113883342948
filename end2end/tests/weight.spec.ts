import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { appendFileSync } from 'node:fs';
import { ADMIN } from './helpers';

// Page weight as a first visit pays it: bytes on the wire (headers + compressed bodies), counted by
// Chromium's network layer (CDP `Network.loadingFinished.encodedDataLength`) in a fresh context, so
// the cache starts cold. `make page-weight` runs this file alone and prints the figures; they are
// in docs/performance.md. Targets from issue 12: sign-in ≤ 600 KB, a chart page ≤ 1 MB, and a
// second navigation downloads no WASM again (the /pkg files are immutable: their names carry hashes).

const KB = 1000;
const TARGET_LOGIN = 600 * KB;
const TARGET_CHART_PAGE = 1000 * KB;

type Transfer = { url: string; bytes: number; cached: boolean; encoding: string };

/** Records every response of `page` until `stop()`. */
async function recordTransfers(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const byId = new Map<string, Transfer>();
  const done: Transfer[] = [];
  cdp.on('Network.responseReceived', (e) => {
    byId.set(e.requestId, {
      url: e.response.url,
      bytes: 0,
      cached: Boolean(e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker),
      encoding: String(e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? ''),
    });
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    const t = byId.get(e.requestId);
    if (t) t.cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const t = byId.get(e.requestId);
    if (t) {
      t.bytes = e.encodedDataLength;
      done.push(t);
    }
  });
  return {
    transfers: () => [...done],
    total: () => done.reduce((n, t) => n + t.bytes, 0),
    clear: () => { done.length = 0; },
  };
}

function report(name: string, transfers: Transfer[]) {
  const total = transfers.reduce((n, t) => n + t.bytes, 0);
  const lines = transfers
    .filter((t) => t.bytes > 2 * KB)
    .sort((a, b) => b.bytes - a.bytes)
    .map((t) => `    ${(t.bytes / KB).toFixed(1).padStart(8)} KB  ${t.encoding || 'identity'}  ${new URL(t.url).pathname}`);
  const text = `${name}: ${(total / KB).toFixed(1)} KB in ${transfers.length} responses\n${lines.join('\n')}\n`;
  console.log(text);
  if (process.env.PAGE_WEIGHT_REPORT) appendFileSync(process.env.PAGE_WEIGHT_REPORT, text);
  return total;
}

/** Waits until the page has loaded and gone quiet (the WASM fetched and run, charts drawn). */
async function settle(page: Page) {
  await page.waitForLoadState('networkidle');
}

test('sign-in on a cold cache stays under 600 KB and loads no WASM', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const rec = await recordTransfers(context, page);
  await page.goto('/login');
  await settle(page);
  const total = report('/login (cold cache)', rec.transfers());
  expect(rec.transfers().some((t) => t.url.endsWith('.wasm')), 'sign-in is a plain form: no WASM').toBe(false);
  expect(total).toBeGreaterThan(1 * KB); // the page itself was counted
  expect(total).toBeLessThanOrEqual(TARGET_LOGIN);
  await context.close();
});

test('a chart page on a cold cache stays under 1 MB, compressed, and a second navigation downloads no WASM', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Sign in by posting the form without a page (the redirect target would warm the cache), then
  // count from a cold cache.
  const signIn = await context.request.post('/auth/login', {
    form: { email: ADMIN.email, password: ADMIN.password, next: '' },
    headers: { origin: new URL(test.info().project.use.baseURL!).origin },
    maxRedirects: 0,
  });
  expect(signIn.status(), 'signed in (redirected away from /login)').toBe(303);
  expect(signIn.headers()['location']).not.toContain('/login');
  const rec = await recordTransfers(context, page);

  await page.goto('/admin/volume');
  await settle(page);
  await expect(page.locator('#volume-chart canvas, .chart canvas').first()).toBeVisible();
  const first = rec.transfers();
  const total = report('/admin/volume (cold cache, signed in)', first);
  const wasm = first.find((t) => t.url.endsWith('.wasm'));
  expect(wasm, 'the chart page hydrates: its WASM is fetched').toBeTruthy();
  expect(wasm!.encoding, 'the WASM is sent compressed').toMatch(/^(br|gzip)$/);
  expect(first.find((t) => t.url.includes('/vendor/echarts'))?.encoding).toMatch(/^(br|gzip)$/);
  expect(first.find((t) => new URL(t.url).pathname === '/admin/volume')?.encoding, 'the page is compressed').toMatch(/^(br|gzip)$/);
  expect(total).toBeLessThanOrEqual(TARGET_CHART_PAGE);

  // A full navigation to another page: the WASM, its JS and the CSS come from the cache.
  rec.clear();
  await page.goto('/admin/revenue');
  await settle(page);
  const second = rec.transfers();
  report('/admin/revenue (second navigation)', second);
  const pkg = second.filter((t) => new URL(t.url).pathname.startsWith('/pkg/'));
  expect(pkg.length, 'the page still uses the WASM, JS and CSS').toBeGreaterThanOrEqual(2);
  for (const t of pkg) {
    expect(t.bytes, `${t.url} should come from the cache`).toBe(0);
  }
  await context.close();
});
