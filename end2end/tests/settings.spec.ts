import { expect, Page, test } from '@playwright/test';
import { STORAGE } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('an admin creates an API key, sees it once, and revokes it', async ({ page, playwright, baseURL }) => {
  await open(page, '/settings');
  await page.getByTestId('key-name').fill('e2e reader');
  await page.getByTestId('key-scope-read').check();
  await page.getByTestId('create-key').click();
  const secret = (await page.getByTestId('new-key').textContent())!.trim();
  expect(secret).toMatch(/^sl_[0-9A-Za-z]{40}$/);

  // The key works on the read API, from a client without the admin's session.
  const client = await playwright.request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const dashboard = () =>
    client.get('/api/v1/dashboard?range=24h', { headers: { authorization: `Bearer ${secret}` } });
  expect((await dashboard()).status()).toBe(200);

  // Shown once: after a reload only its prefix is listed.
  await open(page, '/settings');
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  const row = page.getByTestId('key-row').filter({ hasText: 'e2e reader' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(secret.slice(0, 11));
  await expect(row).not.toContainText(secret);
  await expect(row.getByTestId('key-state')).toHaveText('active');

  page.once('dialog', (d) => d.accept());
  await row.getByTestId('revoke-key').click();
  await expect(row.getByTestId('key-state')).toContainText('revoked');
  expect((await dashboard()).status()).toBe(401);
  await client.dispose();
});

test('sessions and users drill down to each other', async ({ page }) => {
  await open(page, '/users');
  await expect(page.getByTestId('user-row').first()).toBeVisible();
  await page.getByTestId('user-link').filter({ hasText: 'user-1' }).click();
  await expect(page).toHaveURL(/\/users\/user-1$/);
  await expect(page.getByTestId('user-id')).toHaveText('user-1');
  await page.getByTestId('user-all-sessions').click();
  await expect(page).toHaveURL(/\/sessions\?.*user=user-1/);
  await expect(page.getByTestId('session-row').first()).toBeVisible();
  await expect(page.getByTestId('session-user').first()).toHaveText('user-1');
});

test.describe('as a viewer', () => {
  test.use({ storageState: STORAGE.viewer });

  test('settings show the keys but no account management or key creation', async ({ page }) => {
    await open(page, '/settings');
    await expect(page.getByTestId('settings-keys')).toBeVisible();
    await expect(page.getByTestId('create-key-form')).toHaveCount(0);
    await expect(page.getByTestId('settings-accounts')).toHaveCount(0);
    await expect(page.getByTestId('revoke-key')).toHaveCount(0);
  });
});
