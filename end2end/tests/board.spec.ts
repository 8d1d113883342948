import { expect, test, type Page } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

// Issue 12: the board's keyboard moves, its layout at 1440 px and 390 px, how many cards it
// draws, and where a client with one workspace lands.

const BOARD = '/client-portal/acme-roofing';
// Every test waits for the debug WASM to start, which takes long on a busy 2-core machine.
test.describe.configure({ timeout: 120_000 });
/** Cards a column draws at first and per "Show more" (app/src/pages/portal.rs, CARDS_PER_STEP). */
const STEP = 20;

const column = (page: Page, stage: string) => page.locator(`section.board-col[data-stage=${stage}]`);
const count = async (page: Page, stage: string) => Number((await column(page, stage).getByTestId('column-count').innerText()).replace(/,/g, ''));
const STAGES = ['new', 'contacted', 'follow_up', 'meeting_booked', 'quote_sent', 'won', 'lost'];

async function openBoard(page: Page) {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto(BOARD);
  // Hydrated and listening: the handlers are attached (the debug WASM takes seconds to start).
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'live', { timeout: 60_000 });
}

async function counts(page: Page): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of STAGES) out[s] = await count(page, s);
  return out;
}

/** Counts the move requests the page sends. */
function countMoves(page: Page): { n: number } {
  const seen = { n: 0 };
  page.on('request', (r) => {
    if (r.url().includes('/api/portal/leads/move')) seen.n += 1;
  });
  return seen;
}

test('arrow keys on the Move menu only choose; Enter moves exactly that lead and keeps focus on it', async ({ page }) => {
  await openBoard(page);
  const moves = countMoves(page);
  const before = await counts(page);
  const ids = await column(page, 'new').getByTestId('lead-card').evaluateAll((els) => els.slice(0, 4).map((e) => e.getAttribute('data-lead-id')));
  const id = ids[0]!;
  const menu = column(page, 'new').locator(`[data-lead-id="${id}"]`).getByTestId('move-menu');

  await menu.focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  // The keys did change the choice (New → Contacted → Follow-up → Meeting booked)…
  await expect(menu).toHaveValue('meeting_booked');
  await expect(menu).toBeFocused();
  // …and moved nothing.
  await page.waitForTimeout(500);
  expect(moves.n).toBe(0);
  expect(await counts(page)).toEqual(before);
  for (const other of ids) await expect(column(page, 'new').locator(`[data-lead-id="${other}"]`)).toHaveCount(1);

  await page.keyboard.press('Enter');
  const moved = column(page, 'meeting_booked').locator(`[data-lead-id="${id}"]`);
  await expect(moved).toHaveCount(1);
  await expect(moved.getByTestId('move-menu')).toBeFocused();
  await expect(moved.getByTestId('move-menu')).toHaveValue('meeting_booked');
  expect(await counts(page)).toEqual({ ...before, new: before.new - 1, meeting_booked: before.meeting_booked + 1 });
  await expect.poll(() => moves.n).toBe(1);

  // The server agrees, and the other leads stayed new.
  await page.reload();
  await expect(column(page, 'meeting_booked').locator(`[data-lead-id="${id}"]`)).toHaveCount(1);
  for (const other of ids.slice(1)) await expect(column(page, 'new').locator(`[data-lead-id="${other}"]`)).toHaveCount(1);
  expect(await count(page, 'new')).toBe(before.new - 1);
});

test('choosing with the mouse moves nothing until "Move"; won asks first and Escape keeps the card', async ({ page }) => {
  await openBoard(page);
  const moves = countMoves(page);
  const before = await counts(page);
  const card = column(page, 'new').getByTestId('lead-card').first();
  const id = (await card.getAttribute('data-lead-id'))!;

  await card.getByTestId('move-menu').selectOption('contacted');
  await page.waitForTimeout(300);
  expect(moves.n).toBe(0);
  await expect(column(page, 'new').locator(`[data-lead-id="${id}"]`)).toHaveCount(1);

  await card.getByTestId('move-button').click();
  const moved = column(page, 'contacted').locator(`[data-lead-id="${id}"]`);
  await expect(moved).toHaveCount(1);
  await expect(moved.getByTestId('move-menu')).toBeFocused();
  expect(await counts(page)).toEqual({ ...before, new: before.new - 1, contacted: before.contacted + 1 });

  // Won: Enter opens the question with the keyboard in the amount; Escape cancels and the focus
  // goes back to the card, which stays where it was.
  await moved.getByTestId('move-menu').selectOption('won');
  await moved.getByTestId('move-menu').press('Enter');
  const dialog = page.getByTestId('move-dialog');
  await expect(dialog.getByLabel('Deal value ($)')).toBeFocused();
  // The keyboard stays in the question: Tab past "Cancel" comes back to the amount, and back.
  for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
  await expect(dialog.getByLabel('Deal value ($)')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(moved.getByTestId('move-menu')).toBeFocused();
  // The menu names the card's stage again, not the cancelled "Won".
  await expect(moved.getByTestId('move-menu')).toHaveValue('contacted');
  // A click beside the question cancels it too.
  await moved.getByTestId('move-menu').selectOption('lost');
  await moved.getByTestId('move-menu').press('Enter');
  await expect(dialog).toBeVisible();
  await page.mouse.click(5, 5);
  await expect(dialog).toHaveCount(0);
  await expect(moved.getByTestId('move-menu')).toHaveValue('contacted');
  expect(await count(page, 'contacted')).toBe(before.contacted + 1);
  await expect.poll(() => moves.n).toBe(1);
});

test('the board draws at most 20 cards per column and "Show more" adds more in place', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openBoard(page);
  const totals = await counts(page);
  const drawn = async (stage: string) => column(page, stage).getByTestId('lead-card').count();
  // The demo's Acme Roofing has 158 leads; at least one column holds more than a step.
  const expected = Object.values(totals).reduce((sum, t) => sum + Math.min(t, STEP), 0);
  expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBeGreaterThan(150);
  expect(expected).toBeLessThanOrEqual(7 * STEP);
  await expect(page.getByTestId('lead-card')).toHaveCount(expected);
  const big = STAGES.find((s) => totals[s] > STEP)!;
  expect(big, 'a column longer than a step').toBeTruthy();
  expect(await drawn(big)).toBe(STEP);
  await expect(column(page, big).getByTestId('show-more')).toBeVisible();
  for (const s of STAGES.filter((s) => totals[s] <= STEP)) await expect(column(page, s).getByTestId('show-more')).toHaveCount(0);

  // The column scrolls inside itself; "Show more" keeps where it was scrolled to.
  const body = column(page, big).locator('.board-col-body');
  const scrolled = await body.evaluate((el) => {
    el.scrollTop = el.scrollHeight;
    return el.scrollTop;
  });
  expect(scrolled).toBeGreaterThan(0);
  await column(page, big).getByTestId('show-more').click();
  await expect.poll(() => drawn(big)).toBe(Math.min(totals[big], 2 * STEP));
  expect(await body.evaluate((el) => el.scrollTop)).toBe(scrolled);
  await expect(page).toHaveURL((url) => url.pathname === BOARD);
});

test('at 1440 px the later columns are off to the right with a visible hint, and Won and Lost are a click away', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await openBoard(page);
  const wrap = page.getByTestId('board-wrap');
  const board = page.getByTestId('board');
  const boardBox = (await board.boundingBox())!;
  // The board is about a screen tall; the page does not grow with the cards.
  expect(boardBox.height).toBeGreaterThan(500);
  expect(boardBox.height).toBeLessThanOrEqual(900);
  expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThan(2 * 900);

  const lost = column(page, 'lost');
  expect((await lost.boundingBox())!.x).toBeGreaterThan(boardBox.x + boardBox.width);
  await expect(wrap).toHaveClass(/more-right/);
  await expect(wrap).not.toHaveClass(/more-left/);
  await expect(page.getByTestId('scroll-right')).toBeVisible();
  const jump = page.getByTestId('board-jump');
  await expect(jump.getByRole('link', { name: /^Won/ })).toBeVisible();

  await jump.getByRole('link', { name: /^Lost/ }).click();
  await expect(lost.getByRole('heading', { name: 'Lost' })).toBeFocused();
  await expect(async () => {
    const box = (await lost.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(boardBox.x - 1);
    expect(box.x + box.width).toBeLessThanOrEqual(boardBox.x + boardBox.width + 1);
  }).toPass();
  await expect(wrap).toHaveClass(/more-left/);
  await expect(wrap).not.toHaveClass(/more-right/);
});

test('at 390 px the board is a screen tall, columns swipe sideways with the next one peeking, no blank page', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openBoard(page);
  // The page was 7,500 px tall with ~5,000 px of blank below the first column.
  const docHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(docHeight).toBeLessThan(2 * 844);
  const board = page.getByTestId('board');
  const box = (await board.boundingBox())!;
  expect(box.height).toBeLessThanOrEqual(844);
  expect(await board.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

  // One column fills most of the width and the next one shows its edge.
  const first = (await column(page, 'new').boundingBox())!;
  const second = (await column(page, 'contacted').boundingBox())!;
  expect(first.width).toBeGreaterThan(250);
  expect(second.x).toBeLessThan(390);
  await expect(page.getByTestId('board-wrap')).toHaveClass(/more-right/);

  // A long column scrolls inside itself instead of stretching the page.
  const body = column(page, 'follow_up').locator('.board-col-body');
  expect(await body.evaluate((el) => el.scrollHeight > el.clientHeight + 100)).toBe(true);

  // The jump bar reaches the last column.
  await page.getByTestId('board-jump').getByRole('link', { name: /^Lost/ }).click();
  await expect(async () => {
    const lost = (await column(page, 'lost').boundingBox())!;
    expect(lost.x).toBeGreaterThanOrEqual(-1);
    expect(lost.x + lost.width).toBeLessThanOrEqual(391);
  }).toPass();
});

test('a client with one workspace lands on its board; the admin keeps the hub', async ({ page, browser }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await expect(page).toHaveURL((url) => url.pathname === BOARD);
  await expect(page.getByTestId('workspace-name')).toHaveText('Acme Roofing');
  // A redirect by the server (before any WASM), not a hop in the browser after the hub showed.
  const res = await page.goto('/client-portal');
  expect(res!.request().redirectedFrom()?.url()).toMatch(/\/client-portal$/);
  expect(res!.status()).toBe(200);
  await expect(page).toHaveURL((url) => url.pathname === BOARD);

  const other = await browser.newContext();
  const admin = await other.newPage();
  await login(admin, ADMIN.email, ADMIN.password);
  await admin.goto('/client-portal');
  await expect(admin).toHaveURL((url) => url.pathname === '/client-portal');
  expect(await admin.getByTestId('workspace-list').getByRole('link').count()).toBeGreaterThan(1);
  await other.close();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the board draws 20 cards per column, "Show more" is a link, and a card\'s Move leads to the lead page that moves it', async ({ page }) => {
    await login(page, CLIENT.email, CLIENT.password);
    await page.goto(BOARD);
    const big = column(page, 'follow_up');
    await expect(big.getByTestId('lead-card')).toHaveCount(STEP);
    await big.getByTestId('show-more').click();
    await expect(page).toHaveURL((url) => url.searchParams.get('per') === String(2 * STEP));
    expect(await column(page, 'follow_up').getByTestId('lead-card').count()).toBeGreaterThan(STEP);

    const card = column(page, 'new').getByTestId('lead-card').first();
    const id = await card.getAttribute('data-lead-id');
    await card.getByTestId('move-button').click();
    await expect(page).toHaveURL((url) => url.pathname === `${BOARD}/leads/${id}`);
    const form = page.getByTestId('move-form');
    await form.getByLabel('Stage').selectOption('quote_sent');
    await form.getByRole('button', { name: 'Move' }).click();
    await expect(page.getByTestId('lead-stage')).toHaveText('Quote sent');
  });
});
