import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, VIEWER, login } from './helpers';

// The demo host has no AI keys: the page says so, and the template writer (not AI) runs.
test('an admin creates a campaign, uploads leads, watches the run reach 100 % and downloads the CSV', async ({ page }) => {
  // Upload, a 1,500-lead run, the page fetched again and three downloads: its waits already allow
  // 60 s for the run, so the test as a whole needs more than the default 30 s on a loaded CI.
  test.setTimeout(120_000);
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/personalization');
  await expect(page.getByTestId('no-ai-keys')).toContainText('template, not AI');
  const form = page.getByTestId('new-campaign');
  await form.locator('select[name=workspace]').selectOption('acme-roofing');
  const name = `Spring ${Date.now()}`;
  await form.locator('input[name=name]').fill(name);
  await form.getByRole('button', { name: 'Create campaign' }).click();
  await expect(page).toHaveURL(/\/personalization\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);

  let csv = 'First Name,Email Address,Company Name,Job Title\n';
  for (let i = 0; i < 1500; i++) csv += `Person${i},person${i}@firm${i}.test,Firm${i} Roofing,Owner\n`;
  csv += 'Broken,not-an-email,X,Owner\n';
  await page.locator('input[type=file][name=file]').setInputFiles({ name: 'leads.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await expect(page.locator('input[name=writer][value=ai]')).toBeDisabled();
  await page.getByTestId('upload-leads').getByRole('button', { name: 'Upload and start' }).click();
  await expect(page).toHaveURL(/run=\d+/);
  await expect(page.getByTestId('run-progress-pct')).toHaveText(' 100 %', { timeout: 60_000 });
  await expect(page.getByTestId('run-progress')).toContainText('completed: 1500 written, 0 failed of 1500');
  await expect(page.getByTestId('results')).toContainText('Person0, as Owner at Firm0 Roofing, you likely decide how new business comes in.');
  await expect(page.getByTestId('runs')).toContainText('template, not AI');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-run').click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('First Name,Email Address,Company Name,Job Title,personalized_message,enrichment_status,research');
  expect(lines[1]).toBe('Person0,person0@firm0.test,Firm0 Roofing,Owner,"Person0, as Owner at Firm0 Roofing, you likely decide how new business comes in.",template (not AI),');
  expect(lines.length).toBe(1501);
});

// The demo lets Acme Roofing's client users in; its seeded run went through the real pipeline.
test('a client of a workspace that allows it sees its campaign and the lines written', async ({ page }) => {
  await login(page, CLIENT.email, CLIENT.password);
  await page.goto('/personalization');
  await page.getByTestId('campaigns').getByRole('link', { name: 'Spring storm follow-up' }).click();
  await expect(page.getByTestId('runs')).toContainText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('results')).toContainText('Dana, as Owner at Ruiz Roofing in Austin, you likely decide how new business comes in.');
  await expect(page.getByTestId('results').getByText('template, not AI').first()).toBeVisible();
});

// Clients and viewers read what concerns them (issue 12, item 9): no server settings, no agency
// staff names; admins keep the setting names and the per-person savings.
test('the no-AI notice and the savings speak to each role', async ({ page, browser }) => {
  await login(page, CLIENT.email, CLIENT.password);
  const res = await page.goto('/personalization');
  await expect(page.getByTestId('no-ai-keys')).toHaveText(
    'AI writing is not switched on yet. For now each first line is written by a template (not AI) from the columns of your own file. Your agency can switch AI writing on.',
  );
  await expect(page.getByTestId('savings-workspaces')).toContainText('Acme Roofing');
  await expect(page.getByTestId('savings-users')).toHaveCount(0);
  const html = await res!.text();
  expect(html, 'no server setting names, not even in the serialized data').not.toContain('MAVERICK_');
  expect(html, 'no agency staff names in the page data').not.toContain('Avery Admin');

  const viewer = await browser.newPage();
  await login(viewer, VIEWER.email, VIEWER.password);
  await viewer.goto('/personalization');
  await expect(viewer.locator('body')).not.toContainText('MAVERICK_');
  await expect(viewer.getByTestId('savings-users')).toHaveCount(0);
  await viewer.close();

  const admin = await browser.newPage();
  await login(admin, ADMIN.email, ADMIN.password);
  await admin.goto('/personalization');
  await expect(admin.getByTestId('no-ai-keys')).toContainText('MAVERICK_PERPLEXITY_KEY and MAVERICK_OPENROUTER_KEY');
  await expect(admin.getByTestId('savings-users')).toContainText('Avery Admin');
  await admin.close();
});
