import { expect, test } from '@playwright/test';
import { ADMIN, login } from './helpers';

test('an admin uploads a contact list, corrects the mapping, imports, and downloads the rejected rows', async ({ page }) => {
  await login(page, ADMIN.email, ADMIN.password);
  await page.goto('/admin/contacts?workspace=summit-realty');
  const csv = 'Contact;Given name;Org\nkim@vale.test;Kim;Vale Ltd\nno-at-sign;Bad;Row\nKIM@vale.test;Kim again;Dup\n';
  await page.locator('input[type=file][name=file]').setInputFiles({ name: 'expo-leads.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByTestId('contacts-upload').getByRole('button', { name: 'Upload' }).click();
  await expect(page).toHaveURL(/upload=\d+/);
  const mapping = page.getByTestId('contacts-mapping');
  await expect(mapping).toContainText('Match the columns of expo-leads.csv');
  await expect(page.getByTestId('contacts-preview')).toContainText('kim@vale.test');
  // Nothing in this header says "email": the admin picks the column.
  await mapping.locator('select[name=email]').selectOption('1');
  await mapping.locator('select[name=first_name]').selectOption('2');
  await mapping.locator('select[name=company]').selectOption('3');
  await mapping.getByRole('button', { name: 'Import' }).click();
  const outcome = page.getByTestId('contacts-outcome');
  await expect(outcome).toContainText('3 rows read — 1 created, 1 duplicates skipped, 1 rejected.');
  const [download] = await Promise.all([page.waitForEvent('download'), outcome.getByRole('link', { name: 'Download the rejected rows' }).click()]);
  const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
  expect(text.trim().split('\n')).toEqual(['line,error,Contact,Given name,Org', '3,"""no-at-sign"" is not a valid email address",no-at-sign,Bad,Row']);
  await expect(page.getByTestId('contact-counts')).toContainText('unverified');
  // The month-by-month flow: a chart (drawn in the browser) over its table.
  await expect(page.locator('[data-testid=monthly-flow] canvas')).toHaveCount(1);
  await expect(page.getByTestId('monthly-flow').locator('tbody tr').first()).toContainText(new Date().toISOString().slice(0, 7));
});
