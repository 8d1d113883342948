import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ADMIN, hydrated, login } from './helpers';

// Issue 15: an admin loads an agents file and a company file, runs the resolver, decides two
// pairs of the review queue and sends the masters to Acme Roofing's contact pipeline. The same
// fixtures are pinned by hand in server/tests/prospects.rs.
const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', name);

test('an admin loads prospects, resolves them, decides the review queue and sends masters to contacts', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/prospects');
  await expect(page.getByRole('heading', { level: 1, name: 'Prospects' })).toBeVisible();

  // Uploads are plain form posts: they redirect back with what was loaded.
  const upload = page.getByTestId('prospects-upload');
  await page.getByTestId('prospects-kind').selectOption('agents');
  await page.getByTestId('prospects-file').setInputFiles(fixture('prospects-agents.csv'));
  await page.getByTestId('prospects-upload-submit').click();
  await expect(page).toHaveURL(/loaded=agents/);
  await expect(page.getByTestId('prospects-loaded')).toContainText('Agents file loaded: 9 rows read');
  await expect(page.getByTestId('prospects-loaded')).toContainText('1 rejected');

  await page.getByTestId('prospects-kind').selectOption('company');
  await page.getByTestId('prospects-file').setInputFiles(fixture('prospects-company.csv'));
  await upload.getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/loaded=company/);
  await expect(page.getByTestId('prospects-loaded')).toContainText('Company file loaded: 2 rows read');

  // The resolver runs as a queued job: the page follows its progress until it ends, then shows
  // one run in the merge log and two doubtful pairs in the review queue.
  await hydrated(page);
  await page.getByTestId('prospects-resolve').click();
  const progress = page.getByTestId('prospects-progress');
  await expect(progress).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(progress).toContainText(/Run \d+ finished\./);
  await expect(page.getByTestId('prospect-runs').locator('tbody tr')).not.toHaveCount(0);
  const queue = page.getByTestId('review-queue');
  const maria = queue.getByTestId('review-pair').filter({ hasText: 'Maria Gonzalez' });
  const middleton = queue.getByTestId('review-pair').filter({ hasText: 'Katherine Middleton' });
  await expect(maria).toHaveCount(1);
  await expect(maria).toContainText('a shared email or phone');
  await expect(middleton).toHaveCount(1);
  await expect(middleton).toContainText('similar name');

  // Approve one: Maria and Peter are one master of two records at once. Reject the other (keep
  // apart): both leave the queue.
  const masters = page.getByTestId('prospect-masters');
  await maria.getByTestId('review-approve').click();
  await expect(page.getByText('Decision saved: merged pairs are one master now')).toBeVisible();
  await expect(queue.getByTestId('review-pair').filter({ hasText: 'Maria Gonzalez' })).toHaveCount(0);
  await expect(masters.getByTestId('master-row').filter({ hasText: 'office@realty.test' }).locator('td.num').first()).toHaveText('2');
  await page.getByTestId('review-pair').filter({ hasText: 'Katherine Middleton' }).getByTestId('review-reject').click();
  await expect(page.getByTestId('review-pair').filter({ hasText: 'Katherine Middleton' })).toHaveCount(0);

  // A second run keeps the decisions: still one master for Maria and Peter, two Middletons.
  const firstRun = (await progress.textContent())!.match(/Run (\d+)/)![1];
  await page.getByTestId('prospects-resolve').click();
  await expect(progress).toContainText(`Run ${Number(firstRun) + 1} finished.`, { timeout: 30_000 });
  await expect(page.getByTestId('prospect-runs').locator('tbody tr')).toHaveCount(2);
  await expect(masters.getByTestId('master-row').filter({ hasText: 'office@realty.test' }).locator('td.num').first()).toHaveText('2');
  await expect(masters.getByTestId('master-row').filter({ hasText: 'Middleton' })).toHaveCount(2);

  // Every master with confidence 80 or more to Acme Roofing's contacts.
  const send = page.getByTestId('send-to-contacts');
  await page.getByTestId('send-workspace').selectOption('acme-roofing');
  await page.getByTestId('send-min-confidence').fill('80');
  await page.getByTestId('send-submit').click();
  const outcome = page.getByTestId('send-outcome');
  await expect(outcome).toContainText(/masters sent to Acme Roofing: \d+ created/);
  const total = (await outcome.textContent())!.match(/now has ([\d,]+) contacts/)![1];
  await expect(send).toBeVisible();

  // The contact pipeline counts them.
  await page.goto('/admin/contacts?workspace=acme-roofing');
  await expect(page.getByRole('heading', { level: 2, name: `Acme Roofing: ${total} contacts` })).toBeVisible();
});
