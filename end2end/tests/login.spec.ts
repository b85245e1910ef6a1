import { expect, Page, test } from '@playwright/test';
import { ACCOUNTS } from '../support';

// These tests sign in through the form themselves: no stored session.
test.use({ storageState: { cookies: [], origins: [] } });

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

async function signIn(page: Page, username: string, password: string) {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

test('a page needs a session: the login page sends you back where you were going', async ({ page }) => {
  await page.goto('/threats?state=all');
  await expect(page).toHaveURL(/\/login\?next=%2Fthreats%3Fstate%3Dall$/);
  await hydrated(page);
  await signIn(page, ACCOUNTS.admin.username, 'not the password');
  await expect(page.getByTestId('login-error')).toHaveText('Wrong username or password.');
  await expect(page).toHaveURL(/\/login/);
  await signIn(page, ACCOUNTS.admin.username, ACCOUNTS.admin.password);
  await expect(page).toHaveURL(/\/threats\?state=all$/);
  await expect(page.getByTestId('account-name')).toHaveText(ACCOUNTS.admin.username);
  await expect(page.getByTestId('account-role')).toHaveText('admin');
  // Signing out ends the session: pages send you to the login page again.
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

// Last in this file: it locks the viewer out from this address for ten minutes (the
// other tests use sessions opened in global-setup.ts).
test('five failures lock a username out from this address, even with the right password', async ({
  page,
}) => {
  await page.goto('/login');
  await hydrated(page);
  const error = page.getByTestId('login-error');
  for (let attempt = 1; attempt <= 5; attempt++) {
    await signIn(page, ACCOUNTS.viewer.username, `guess ${attempt}`);
    await expect(error).toHaveText('Wrong username or password.');
  }
  await signIn(page, ACCOUNTS.viewer.username, ACCOUNTS.viewer.password);
  await expect(error).toHaveText('Too many failed sign-ins. Try again in 10 minutes.');
  await expect(page).toHaveURL(/\/login$/);
  // The lock is the viewer's from this address: another account signs in from it.
  await signIn(page, ACCOUNTS.admin.username, ACCOUNTS.admin.password);
  await expect(page).not.toHaveURL(/\/login/);
});
