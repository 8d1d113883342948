import { expect, test, type Page } from '@playwright/test';
import { ADMIN, CLIENT, VIEWER, login } from './helpers';

const BOARD = '/client-portal/acme-roofing';
// Every test waits for the debug WASM to start, which takes long on a busy 2-core machine.
test.describe.configure({ timeout: 120_000 });

/** Waits until the board is hydrated and its live stream is open. */
async function live(page: Page) {
  // (The debug WASM takes seconds to start on a busy machine.)
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-state', 'live', { timeout: 60_000 });
}

const column = (page: Page, stage: string) => page.locator(`section.board-col[data-stage=${stage}]`);
const count = (page: Page, stage: string) => column(page, stage).getByTestId('column-count');

test('a client drags a card to another column; it stays after a reload and a second browser sees it live', async ({ page, browser }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto(BOARD);
  await expect(page.getByTestId('portal-kpi')).toContainText('interested leads this month');
  await live(page);

  // A second person (the agency admin) watches the same board.
  const other = await browser.newContext();
  const watcher = await other.newPage();
  await login(watcher, ADMIN.email, ADMIN.password);
  await watcher.goto(BOARD);
  await live(watcher);

  const card = column(page, 'new').getByTestId('lead-card').first();
  const id = await card.getAttribute('data-lead-id');
  const [newBefore, contactedBefore] = [Number(await count(page, 'new').innerText()), Number(await count(page, 'contacted').innerText())];
  // Drop on the column's head: it is in view, so the page does not scroll mid-drag.
  await card.dragTo(column(page, 'contacted').locator('.board-col-head'));
  await expect(column(page, 'contacted').locator(`[data-lead-id="${id}"]`)).toBeVisible();
  await expect(count(page, 'new')).toHaveText(String(newBefore - 1));
  await expect(count(page, 'contacted')).toHaveText(String(contactedBefore + 1));

  // Live on the other browser, without a reload (the stream pushes within 2 s).
  await expect(column(watcher, 'contacted').locator(`[data-lead-id="${id}"]`)).toBeVisible({ timeout: 4000 });
  await other.close();

  await page.reload();
  await expect(column(page, 'contacted').locator(`[data-lead-id="${id}"]`)).toBeVisible();
  await expect(column(page, 'new').locator(`[data-lead-id="${id}"]`)).toHaveCount(0);

  // The lead's page shows who moved it.
  await page.goto(`${BOARD}/leads/${id}`);
  await expect(page.getByTestId('lead-stage')).toHaveText('Contacted');
  await expect(page.getByTestId('history')).toContainText('New → Contacted');
  await expect(page.getByTestId('history')).toContainText('Casey Client');
});

test('moving to won asks for the deal value; the menu and its Move button are the keyboard way to move', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto(BOARD);
  await live(page);
  const wonBefore = Number(await count(page, 'won').innerText());

  const card = column(page, 'follow_up').getByTestId('lead-card').first();
  const id = await card.getAttribute('data-lead-id');
  // The menu only chooses; "Move" commits.
  await card.getByTestId('move-menu').selectOption('won');
  await expect(page.getByTestId('move-dialog')).toHaveCount(0);
  await card.getByTestId('move-button').click();
  const dialog = page.getByTestId('move-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Deal value ($)').fill('4,250.50');
  await dialog.getByRole('button', { name: 'Move to won' }).click();
  await expect(column(page, 'won').locator(`[data-lead-id="${id}"]`)).toContainText('$4,250.50');
  await expect(count(page, 'won')).toHaveText(String(wonBefore + 1));

  // A deal value that is not an amount is refused with a message, and the card stays.
  const next = column(page, 'follow_up').getByTestId('lead-card').first();
  const nextId = await next.getAttribute('data-lead-id');
  await next.getByTestId('move-menu').selectOption('won');
  await next.getByTestId('move-button').click();
  await page.getByTestId('move-dialog').getByLabel('Deal value ($)').fill('-5');
  await page.getByTestId('move-dialog').getByRole('button', { name: 'Move to won' }).click();
  await expect(page.getByTestId('move-error')).toBeVisible();
  await expect(column(page, 'follow_up').locator(`[data-lead-id="${nextId}"]`)).toBeVisible();

  await page.reload();
  await expect(column(page, 'won').locator(`[data-lead-id="${id}"]`)).toBeVisible();
});

test('a client adds a note on a lead page', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto(BOARD);
  const link = column(page, 'meeting_booked').locator('a.lead-name').first();
  await link.click();
  await expect(page).toHaveURL(/\/client-portal\/acme-roofing\/leads\/\d+$/);
  await expect(page.getByTestId('reply-text')).not.toBeEmpty();
  await page.getByTestId('add-note').getByLabel('Add a note').fill('Booked for Tuesday 10:00, bring samples.');
  await page.getByTestId('add-note').getByRole('button', { name: 'Add note' }).click();
  await expect(page.getByTestId('notes')).toContainText('Booked for Tuesday 10:00, bring samples.');
  await page.reload();
  await expect(page.getByTestId('notes')).toContainText('Casey Client');
});

test('a viewer sees the board read-only', async ({ page }) => {
  await login(page, VIEWER.email, VIEWER.password);
  await page.goto('/client-portal/bright-smile-dental');
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('lead-card').first()).toBeVisible();
  await expect(page.locator('.lead-card[draggable=true]')).toHaveCount(0);
  await expect(page.getByTestId('move-menu')).toHaveCount(0);
});

test("a client opening another workspace's portal gets 404", async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  expect((await page.goto('/client-portal/glow-med-spa'))!.status()).toBe(404);
  const res = await page.request.get('/client-portal/glow-med-spa/leads.csv');
  expect(res.status()).toBe(404);
});
