import { expect, test } from '@playwright/test';
import { ADMIN, CLIENT, login } from './helpers';

test.describe('Automations', () => {
  test('an admin starts a dry run and watches it complete live, step by step', async ({ page }) => {
    test.setTimeout(120_000);
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/automations?workspace=acme-roofing');
    const runNow = page.getByTestId('run-now');
    await expect(runNow.getByLabel('Workspace')).toHaveValue('acme-roofing');
    await expect(runNow.getByRole('checkbox', { name: /Dry run/ })).toBeChecked();
    await runNow.getByRole('button', { name: 'Start' }).click();
    // The run opens on the page (its id in the URL) and moves without a reload.
    await expect(page).toHaveURL(/run=\d+/);
    const detail = page.getByTestId('run-detail');
    await expect(detail).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });
    const steps = detail.getByTestId('run-steps').locator('tbody tr');
    await expect(steps).toHaveCount(5);
    for (const step of ['pt1_pull', 'pt2_clean', 'pt3_gap', 'pt4_upload', 'pt5_rotate']) {
      await expect(detail.locator(`tr[data-step=${step}]`)).toHaveAttribute('data-status', 'completed');
    }
    const log = detail.getByTestId('run-log');
    // The demo's stand-in Cole X Dates gives 3 homeowners per ZIP code of the workspace.
    await expect(log).toContainText(/Export downloaded: \d+ records/);
    await expect(log).toContainText('Dry run: would rename Email Bison campaign');
    await expect(log).toContainText('Run completed.');
    // The run is listed, marked as a dry run, and the list exports as CSV.
    const row = page.getByTestId('automation-runs').locator('tbody tr').first();
    await expect(row).toHaveAttribute('data-status', 'completed');
    await expect(row).toContainText('dry run');
  });

  test('the demo history shows a failed run with the screenshot of the refused sign-in, and the runs export', async ({ page }) => {
    await login(page, ADMIN.email, ADMIN.password);
    await page.goto('/admin/automations?status=failed');
    const rows = page.getByTestId('automation-runs').locator('tbody tr');
    await expect(rows.first()).toHaveAttribute('data-status', 'failed');
    await rows.first().getByRole('link').first().click();
    await expect(page).toHaveURL(/status=failed.*run=\d+/);
    const figure = page.getByTestId('failed-page');
    await expect(figure).toContainText('failed at "sign in"');
    const img = figure.getByRole('img');
    await expect(img).toHaveJSProperty('complete', true);
    expect(await img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(600);
    await expect(page.getByRole('button', { name: 'Retry from the failed step' })).toBeVisible();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    const text = (await (await download.createReadStream()).toArray()).map(String).join('').replace(/^\uFEFF/, '');
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('run,workspace,first_step,last_step,dry_run,trigger,status,created_at,started_at,finished_at,error');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1)) expect(line).toContain(',failed,');
  });

  test('a client is refused the Automations page and the screenshots', async ({ page }) => {
    await login(page, CLIENT.email, CLIENT.password);
    expect((await page.goto('/admin/automations'))!.status()).toBe(403);
    expect((await page.goto('/admin/automations/steps/1/screenshot.png'))!.status()).toBe(403);
  });
});
