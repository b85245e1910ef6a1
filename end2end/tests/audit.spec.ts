import { expect, Page, test } from '@playwright/test';
import { ACCOUNTS, STORAGE } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('an admin finds their own change in the audit log, filters it and exports it', async ({ page }) => {
  await open(page, '/settings');
  await page.getByTestId('key-name').fill('e2e audited key');
  await page.getByTestId('create-key').click();
  const secret = (await page.getByTestId('new-key').textContent())!.trim();
  const prefix = secret.slice(0, 11);

  const audit = page.getByTestId('settings-audit');
  await audit.getByTestId('audit-refresh').click();
  await audit.getByTestId('audit-action').selectOption('api_key.created');
  const row = audit.getByTestId('audit-row').filter({ hasText: prefix });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('audit-actor-cell')).toHaveText(ACCOUNTS.admin.username);
  await expect(row.getByTestId('audit-action-cell')).toHaveText('API key created');
  await expect(row).toContainText('"name":"e2e audited key"');
  // Only the chosen action is listed.
  for (const action of await audit.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')))) {
    expect(action).toBe('api_key.created');
  }

  // The export follows the filter and carries the same entry.
  const href = await audit.getByTestId('audit-export').getAttribute('href');
  expect(href).toBe('/api/v1/export/audit.csv?action=api_key.created');
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  const text = await csv.text();
  expect(text.split('\r\n')[0]).toBe('id,created_at,actor,actor_ip,action,target,detail');
  expect(text).toContain(`,${ACCOUNTS.admin.username},`);
  expect(text).toContain(`,api_key.created,${prefix},`);

  // Another account's entries: none for an account that never acted.
  await audit.getByTestId('audit-actor').fill('nobody-here');
  await audit.getByTestId('audit-actor').press('Tab');
  await expect(audit.getByTestId('audit-empty')).toBeVisible();
});

test.describe('as a viewer', () => {
  test.use({ storageState: STORAGE.viewer });

  test('viewers see no audit log', async ({ page }) => {
    await open(page, '/settings');
    await expect(page.getByTestId('settings-keys')).toBeVisible();
    await expect(page.getByTestId('settings-audit')).toHaveCount(0);
    expect((await page.request.get('/api/v1/export/audit.csv')).status()).toBe(403);
  });
});
