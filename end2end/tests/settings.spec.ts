import { Browser, expect, Page, test } from '@playwright/test';
import { ACCOUNTS, STORAGE, ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** A browser of its own, signed in as nobody, from another client address than the
 * other tests (global-setup.ts trusts X-Forwarded-For from 127.0.0.1, which
 * login.spec.ts locks out of signing in). */
async function anotherClient(browser: Browser, baseURL: string | undefined, ip: string) {
  return browser.newContext({
    baseURL,
    storageState: { cookies: [], origins: [] },
    extraHTTPHeaders: { 'x-forwarded-for': ip },
  });
}

async function signIn(page: Page, username: string, password: string) {
  await open(page, '/login');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
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

test('an admin creates an account, changes its role, resets its password and deletes it; nobody demotes or deletes themself', async ({ page, browser, baseURL }) => {
  const username = `e2e-member-${Date.now()}`;
  const password = 'member password 1';
  await open(page, '/settings');
  await page.getByTestId('account-username').fill(username);
  await page.getByTestId('account-role-new').selectOption('viewer');
  await page.getByTestId('account-password').fill(password);
  await page.getByTestId('create-account').click();
  await expect(page.getByTestId('new-account-box')).toContainText(`Created viewer account ${username}.`);
  // A password was given, so none is generated and shown.
  await expect(page.getByTestId('new-password')).toHaveCount(0);
  const row = page.locator(`[data-testid="account-row"][data-username="${username}"]`);
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('account-row-name')).toHaveText(username);
  await expect(row.getByTestId('account-row-role')).toHaveText('viewer');
  await expect(row.getByTestId('change-role')).toHaveText('Make admin');

  // The new account signs in elsewhere and is a viewer: no admin controls, and the
  // server refuses it an admin action whatever the UI shows.
  const member = await anotherClient(browser, baseURL, '203.0.113.41');
  const theirs = await member.newPage();
  await signIn(theirs, username, password);
  await expect(theirs).toHaveURL(new RegExp(`^${baseURL}/$`));
  await expect(theirs.getByTestId('account-name')).toHaveText(username);
  await expect(theirs.getByTestId('account-role')).toHaveText('viewer');
  await open(theirs, '/settings');
  await expect(theirs.getByTestId('settings-keys')).toBeVisible();
  await expect(theirs.getByTestId('settings-accounts')).toHaveCount(0);
  await expect(theirs.getByTestId('create-key-form')).toHaveCount(0);
  await expect(theirs.getByTestId('set-price-form')).toHaveCount(0);
  await expect(theirs.getByTestId('set-retention-form')).toHaveCount(0);
  const refused = await member.request.post('/api/ui/admin/create_api_key', {
    headers: { origin: baseURL! },
    form: { name: 'sneaky', ingest: 'on' },
  });
  expect(refused.status()).toBe(403);

  // Made admin, the same session gets the admin controls at once.
  await row.getByTestId('change-role').click();
  await expect(page.getByTestId('role-message')).toHaveText(`${username} is now admin.`);
  await expect(row.getByTestId('account-row-role')).toHaveText('admin');
  await expect(row.getByTestId('change-role')).toHaveText('Make viewer');
  await open(theirs, '/settings');
  await expect(theirs.getByTestId('account-role')).toHaveText('admin');
  await expect(theirs.getByTestId('settings-accounts')).toBeVisible();
  await expect(theirs.getByTestId('create-key-form')).toBeVisible();

  // Your own row: no demoting or deleting yourself, and the page says why.
  const mine = page.locator(`[data-testid="account-row"][data-username="${ACCOUNTS.admin.username}"]`);
  await expect(mine).toContainText('(you)');
  await expect(mine.getByTestId('change-role')).toBeDisabled();
  await expect(mine.getByTestId('delete-account')).toBeDisabled();
  await expect(mine.getByTestId('self-note')).toHaveText(
    'You cannot change your own role or delete your own account: ask another admin.',
  );
  // The server refuses it too, with the reason, should a request get through.
  const myId = await mine.getAttribute('data-id');
  const selfDelete = await page.request.post('/api/ui/admin/delete_account', {
    headers: { origin: baseURL! },
    form: { id: myId! },
  });
  expect(selfDelete.status()).toBe(400);
  expect(await selfDelete.text()).toContain('you cannot delete your own account: ask another admin');
  const selfDemote = await page.request.post('/api/ui/admin/set_account_role', {
    headers: { origin: baseURL! },
    form: { id: myId!, role: 'viewer' },
  });
  expect(selfDemote.status()).toBe(400);
  expect(await selfDemote.text()).toContain('you cannot demote yourself: ask another admin');
  await open(page, '/settings');
  await expect(mine.getByTestId('account-row-role')).toHaveText('admin');

  // Your own password is not reset here: the page says how to change it.
  await expect(mine.getByTestId('reset-password-button')).toHaveCount(0);
  await expect(mine.getByTestId('self-password-note')).toContainText(
    `sightline create-admin --username ${ACCOUNTS.admin.username} --password-stdin`,
  );

  // Reset: a new password, shown once; the account's session ends at its next page,
  // the old password opens nothing and the new one signs in.
  page.once('dialog', (d) => d.accept());
  await row.getByTestId('reset-password-button').click();
  await expect(page.getByTestId('reset-password-box')).toContainText(`New password for ${username}`);
  const newPassword = (await page.getByTestId('reset-password').textContent())!.trim();
  expect(newPassword).toMatch(/^[A-Za-z0-9]{20}$/);
  await theirs.goto('/settings');
  await expect(theirs).toHaveURL(/\/login\?next=%2Fsettings$/);
  await signIn(theirs, username, password);
  await expect(theirs.getByTestId('login-error')).toHaveText('Wrong username or password.');
  await signIn(theirs, username, newPassword);
  await expect(theirs).toHaveURL(new RegExp(`^${baseURL}/$`));
  await expect(theirs.getByTestId('account-name')).toHaveText(username);
  // The admin's own session is untouched.
  await open(page, '/settings');
  await expect(mine).toContainText('(you)');

  // Deleted, the account's session is dead and its password opens nothing.
  page.once('dialog', (d) => d.accept());
  await row.getByTestId('delete-account').click();
  await expect(page.getByTestId('delete-message')).toHaveText('Account deleted.');
  await expect(row).toHaveCount(0);
  await theirs.goto('/settings');
  await expect(theirs).toHaveURL(/\/login\?next=%2Fsettings$/);
  const dead = await member.request.get('/api/v1/dashboard?range=24h');
  expect(dead.status()).toBe(401);
  await signIn(theirs, username, newPassword);
  await expect(theirs.getByTestId('login-error')).toHaveText('Wrong username or password.');
  await expect(theirs).toHaveURL(/\/login/);
  await member.close();
});

test('a price set in settings prices new requests at once, and resetting it stops that', async ({ page }) => {
  const model = 'e2e-priced-model';
  await open(page, '/settings');
  await page.getByTestId('price-model').fill(model);
  await page.getByTestId('price-prompt').fill('3.25');
  await page.getByTestId('price-completion').fill('12.5');
  // A cache-read rate of its own; cache writes and reasoning left to fall back.
  await page.getByTestId('price-cache-read').fill('0.5');
  await page.getByTestId('set-price').click();
  await expect(page.getByTestId('price-message')).toHaveText('Price set.');
  const row = page.locator(`[data-testid="price-row"][data-model="${model}"]`);
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('price-prompt-value')).toHaveText('$3.25');
  await expect(row.getByTestId('price-completion-value')).toHaveText('$12.50');
  await expect(row.getByTestId('price-cache-read-value')).toHaveText('$0.50');
  await expect(row.getByTestId('price-cache-write-value')).toHaveText('($3.25)');
  await expect(row.getByTestId('price-reasoning-value')).toHaveText('($12.50)');
  await expect(row.getByTestId('price-source')).toHaveText('set');

  // A request without cost_usd, through the ingest API (the key global-setup.ts made
  // with `sightline api-key create`), right after the change: no 30 s wait.
  const request = (id: string) => ({
    request_id: id,
    timestamp: Date.now() - 1000,
    endpoint: '/v1/chat/completions',
    method: 'POST',
    status_code: 200,
    latency_ms: 250,
    model,
    prompt_tokens: 2000,
    cache_read_tokens: 1000,
    completion_tokens: 400,
    user_id: 'price-user',
  });
  const priced = await ingest({ requests: [request('priced-1')] });
  expect(priced).toMatchObject({ accepted: 1, rejected: 0, errors: [] });
  expect(priced.warnings ?? []).toEqual([]);
  // 1000 × $3.25/M + 1000 cached × $0.50/M + 400 × $12.50/M
  // = $0.00325 + $0.0005 + $0.005 = $0.00875.
  await open(page, '/requests/priced-1');
  await expect(page.getByTestId('field-model')).toHaveText(model);
  await expect(page.getByTestId('field-cost')).toHaveText('$0.00875');
  const dashboard = await (await page.request.get('/api/v1/dashboard?range=24h')).json();
  expect(dashboard.topModels.find((m: any) => m.model === model)).toMatchObject({
    requests: 1,
    promptTokens: 2000,
    completionTokens: 400,
    cacheReadTokens: 1000,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 8_750,
  });

  // Reset: the model has no built-in price, so it leaves the table and new requests
  // cost nothing (with a warning); the cost already recorded stays.
  await open(page, '/settings');
  page.once('dialog', (d) => d.accept());
  await row.getByTestId('reset-price').click();
  await expect(page.getByTestId('reset-message')).toHaveText('Back to the built-in price, if any.');
  await expect(row).toHaveCount(0);
  const unpriced = await ingest({ requests: [request('priced-2')] });
  expect(unpriced).toMatchObject({ accepted: 1, rejected: 0 });
  expect(unpriced.warnings).toEqual([
    { index: 0, type: 'request', error: `no price for model \`${model}\`: cost recorded as 0` },
  ]);
  await open(page, '/requests/priced-2');
  await expect(page.getByTestId('field-cost')).toHaveText('$0');
  await open(page, '/requests/priced-1');
  await expect(page.getByTestId('field-cost')).toHaveText('$0.00875');
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
