import AxeBuilder from '@axe-core/playwright';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { Webhook } from 'standardwebhooks';
import { ADMIN, CLIENT, VIEWER, hydrated, login, setTheme } from './helpers';

// Integrations (issue 13): tokens shown once, an endpoint at a receiver started here, a test event
// delivered and signed (checked with the independent `standardwebhooks` package), and the
// client's view of their own workspace only. The e2e server runs with
// MAVERICK_WEBHOOK_ALLOW_PRIVATE=1 (start-server.sh): the receiver is on loopback.
test.describe.configure({ timeout: 120_000 });

type Received = { headers: Record<string, string>; body: string };

/** A webhook receiver on a free loopback port that answers 200 and keeps what it got. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
      received.push({ headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok from the e2e receiver');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** axe-core's serious and critical findings on the page as shown (a11y.spec.ts sees the page
 *  only empty: no endpoint, no delivery log). */
async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

async function openIntegrations(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Integrations', level: 1 })).toBeVisible();
}

test('an admin makes a token (seen once), an endpoint, sends a test event and sees it delivered, signed', async ({ page }) => {
  const receiver = await startReceiver();
  try {
    await login(page, ADMIN.email, ADMIN.password);
    await openIntegrations(page, '/admin/integrations?workspace=acme-roofing');
    await expect(page.getByTestId('integrations-owner')).toHaveText('Acme Roofing');

    // A token: shown once in full, then only its start. (Its name is new on every run: the
    // database lives as long as the server.)
    const name = `e2e script ${Date.now()}`;
    const form = page.getByTestId('create-token');
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Scope').selectOption('write');
    await form.getByLabel('Expires after (days)').fill('30');
    await form.getByRole('button', { name: 'Create token' }).click();
    const box = page.getByTestId('new-token');
    await expect(box).toContainText("you won't see it again");
    const token = await box.locator('input').inputValue();
    expect(token).toMatch(/^mvk_[A-Za-z0-9_-]{20,}$/);
    const tokens = page.getByTestId('tokens-table');
    const tokenRow = tokens.getByRole('row').filter({ hasText: name });
    await expect(tokenRow).toContainText(`${token.slice(0, 10)}…`);
    await expect(tokenRow).toContainText('write');
    expect(await tokens.textContent()).not.toContain(token);
    // It works against REST v1 for its workspace.
    const auth = { authorization: `Bearer ${token}` };
    expect((await page.request.get('/api/v1/workspaces/acme-roofing', { headers: auth })).status()).toBe(200);
    // After a reload the page holds its start only.
    await openIntegrations(page, '/admin/integrations?workspace=acme-roofing');
    await expect(page.getByTestId('new-token')).toHaveCount(0);
    // The table's CSV has the token's row with its start, never the token.
    const csvHref = await page.getByTestId('tokens-csv').getAttribute('href');
    expect(csvHref).toBe('/integrations/tokens.csv?workspace=acme-roofing');
    const csv = await (await page.request.get(csvHref!)).text();
    expect(csv).toContain(name);
    expect(csv).toContain(token.slice(0, 10));
    expect(csv).not.toContain(token);
    expect(await page.content()).not.toContain(token);

    // An endpoint at the receiver, for lead.created only; its secret is shown once.
    const ep = page.getByTestId('create-endpoint');
    await ep.getByLabel('URL').fill(receiver.url);
    await ep.getByLabel('Description').fill('e2e receiver');
    await ep.locator('input[name="types[lead.created]"]').check();
    await ep.getByRole('button', { name: 'Add endpoint' }).click();
    const secretBox = page.getByTestId('endpoint-secret');
    await expect(secretBox).toContainText("you won't see it again");
    const secret = await secretBox.locator('input').inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{20,}$/);
    const endpointRow = page.getByTestId('endpoints-table').getByRole('row').filter({ hasText: receiver.url });
    await expect(endpointRow).toContainText('e2e receiver');
    await expect(endpointRow).toContainText('lead.created');
    await expect(endpointRow).toContainText('enabled');
    expect(await page.getByTestId('endpoints-table').textContent()).not.toContain(secret);
    expect(await seriousViolations(page)).toEqual([]); // with the secret shown once

    // Its delivery log, then a test event: delivered within a few seconds (the log polls).
    await endpointRow.getByRole('link', { name: 'Delivery log' }).click();
    await expect(page).toHaveURL(/endpoint=\d+/);
    const log = page.getByTestId('delivery-log');
    await expect(log).toContainText(receiver.url);
    await hydrated(page);
    await page.getByTestId('endpoints-table').getByRole('row').filter({ hasText: receiver.url }).getByRole('button', { name: 'Send test event' }).click();
    const delivery = log.locator('tbody.delivery').first();
    await expect(delivery).toHaveAttribute('data-status', 'delivered', { timeout: 10_000 });
    await expect(delivery).toContainText('webhook.test');
    await expect(delivery.getByTestId('delivery-status')).toHaveText('delivered');
    await expect(delivery.locator('td').nth(3)).toHaveText('1'); // attempts
    await expect(delivery.locator('td').nth(4)).toHaveText('200'); // last status code

    // The receiver got exactly one message, signed with the secret shown once.
    await expect.poll(() => receiver.received.length).toBe(1);
    const got = receiver.received[0];
    const message = new Webhook(secret).verify(got.body, got.headers) as { type: string; data: { endpoint_id: number } };
    expect(message.type).toBe('webhook.test');
    expect(message.data.endpoint_id).toBeGreaterThan(0);
    expect(() => new Webhook('whsec_' + Buffer.from('not the right secret at all!').toString('base64')).verify(got.body, got.headers)).toThrow();
    // The trace id sent along (traceparent) is the one the log shows.
    const traceId = got.headers['traceparent'].split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    await expect(delivery).toContainText(traceId);

    // Opened afresh (the log rendered on the server, then hydrated), it shows the same.
    await page.reload();
    await hydrated(page);
    await expect(delivery).toHaveAttribute('data-status', 'delivered');

    // Its attempt: status code, latency and the receiver's answer.
    await delivery.getByRole('button', { name: 'Attempts' }).click();
    const attempts = delivery.getByTestId('attempts-table');
    await expect(attempts).toContainText('200');
    await expect(attempts).toContainText('ok from the e2e receiver');
    await expect(attempts).toContainText(' ms');

    // Filled in (tokens, an endpoint, its log with the attempts open), in both themes: nothing serious for axe.
    expect(await seriousViolations(page)).toEqual([]);
    await setTheme(page, 'dark');
    await page.reload();
    await hydrated(page);
    await delivery.getByRole('button', { name: 'Attempts' }).click();
    await expect(attempts).toContainText('200');
    expect(await seriousViolations(page)).toEqual([]);
    await setTheme(page, 'light');

    // Rotating: a new secret, shown once; for 24 hours both sign, so the receiver can switch.
    const epRow = () => page.getByTestId('endpoints-table').getByRole('row').filter({ hasText: receiver.url });
    await epRow().locator('details.confirm summary', { hasText: 'Rotate secret' }).click();
    await epRow().getByRole('button', { name: 'Rotate the secret' }).click();
    const rotatedBox = page.getByTestId('rotated-secret');
    await expect(rotatedBox).toContainText("you won't see it again");
    const newSecret = await rotatedBox.locator('input').inputValue();
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(secret);
    await epRow().getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(2);
    const second = receiver.received[1];
    expect((new Webhook(newSecret).verify(second.body, second.headers) as { type: string }).type).toBe('webhook.test');
    expect((new Webhook(secret).verify(second.body, second.headers) as { type: string }).type).toBe('webhook.test');
    await expect(log.locator('tbody.delivery[data-status=delivered]')).toHaveCount(2, { timeout: 10_000 });

    // Disabling shows why; editing changes the description.
    await epRow().getByRole('button', { name: 'Disable' }).click();
    await expect(epRow()).toContainText('disabled');
    await expect(epRow()).toContainText('Disabled by a user.');
    await epRow().locator('summary', { hasText: 'Edit' }).click();
    await epRow().getByLabel('Description').fill('e2e receiver, edited');
    await epRow().getByRole('button', { name: 'Save' }).click();
    await expect(epRow()).toContainText('e2e receiver, edited');

    // Revoking the token refuses it at once.
    const row = page.getByTestId('tokens-table').getByRole('row').filter({ hasText: name });
    await row.locator('details.confirm summary', { hasText: 'Revoke' }).click();
    await row.getByRole('button', { name: `Revoke ${name}` }).click();
    await expect(page.getByTestId('tokens-table').getByRole('row').filter({ hasText: name }).locator('.badge-danger')).toBeVisible();
    expect((await page.request.get('/api/v1/workspaces/acme-roofing', { headers: auth })).status()).toBe(401);

    // The event catalog shows example payloads in the delivered shape.
    const example = page.getByTestId('example-lead.created');
    await page.getByTestId('event-catalog').locator('li', { hasText: 'lead.created' }).first().locator('summary').click();
    const payload = JSON.parse((await example.textContent()) ?? '');
    expect(Object.keys(payload)).toEqual(['type', 'timestamp', 'data']);
    expect(payload.type).toBe('lead.created');

    // Deleting the endpoint (behind a confirmation) removes it.
    const again = epRow();
    await again.locator('details.confirm summary', { hasText: 'Delete' }).click();
    await again.getByRole('button', { name: 'Delete the endpoint' }).click();
    await expect(page.getByTestId('endpoints').getByText(receiver.url, { exact: true })).toHaveCount(0);
  } finally {
    await receiver.close();
  }
});

test('an admin reaches Integrations from the account menu (the header keeps its one row)', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin');
  await page.locator('details.account-menu > summary').click();
  await page.getByRole('menuitem', { name: 'Integrations (API, webhooks)' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/admin/integrations');
  await expect(page.getByTestId('event-catalog')).toContainText('lead.created');
});

test('a client sees the integrations of their own workspace only', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto('/client-portal/acme-roofing');
  await hydrated(page);
  await page.getByRole('link', { name: 'Integrations' }).click();
  await expect(page).toHaveURL((url) => url.pathname === '/client-portal/acme-roofing/integrations');
  await expect(page.getByTestId('integrations-owner')).toHaveText('Acme Roofing');
  await expect(page.getByTestId('workspace-picker')).toHaveCount(0);
  await expect(page.getByTestId('create-token')).toBeVisible();
  await expect(page.getByTestId('event-catalog')).toContainText('lead.stage_changed');

  // Another workspace's page is not found; the admin's is refused.
  const other = await page.goto('/client-portal/bright-smile-dental/integrations');
  expect(other!.status()).toBe(404);
  await expect(page.getByTestId('not-found')).toBeVisible();
  expect((await page.goto('/admin/integrations'))!.status()).toBe(403);
});

test('a viewer (read-only) is refused the integrations of their workspace', async ({ page }) => {
  await login(page, VIEWER.email, VIEWER.password);
  const res = await page.goto('/client-portal/bright-smile-dental/integrations');
  expect(res!.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'Integrations need write access' })).toBeVisible();
  await page.goto('/client-portal/bright-smile-dental');
  await hydrated(page);
  await expect(page.getByTestId('workspace-name')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Integrations' })).toHaveCount(0);
});
