// The main flows with the keyboard alone: no click anywhere. Each step moves the focus
// with Tab (as a person would) and acts with Enter, Space or the arrow keys.
import { expect, Locator, Page, test } from '@playwright/test';
import { ACCOUNTS, ingest } from '../support';

// Signs in through the form, as its own client address (login.spec.ts may have locked
// sign-in from 127.0.0.1; global-setup.ts trusts X-Forwarded-For from it).
test.use({ storageState: { cookies: [], origins: [] }, extraHTTPHeaders: { 'x-forwarded-for': '192.0.2.77' } });

async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Presses Tab until `target` has the focus (at most `limit` times). */
async function tabTo(page: Page, target: Locator, limit = 80) {
  for (let i = 0; i < limit; i++) {
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

/** The focused element shows the focus ring. */
async function expectFocusRing(page: Page, of: 'self' | 'label' = 'self') {
  const outline = await page.evaluate((of) => {
    const focused = document.activeElement as HTMLElement;
    const el = of === 'label' ? focused.closest('label')! : focused;
    const style = getComputedStyle(el);
    return `${style.outlineStyle} ${style.outlineWidth}`;
  }, of);
  expect(outline).toBe('solid 2px');
}

test('sign in, change the range, resolve three threats, rate a request and sign out, by keyboard', async ({ page }) => {
  const prefix = `10.77.${Date.now() % 200}`;
  await ingest({
    threats: Array.from({ length: 4 }, (_, i) => ({
      threat_type: 'path_traversal',
      severity: 'low',
      ip: `${prefix}.${i}`,
      description: `keyboard probe ${i}`,
    })),
  });

  // Sign in: the username field has the focus; Enter submits.
  await page.goto('/login');
  await hydrated(page);
  await expect(page.getByTestId('login-username')).toBeFocused();
  await page.keyboard.type(ACCOUNTS.admin.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ACCOUNTS.admin.password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/$/);
  await hydrated(page);

  // The range picker.
  const week = page.getByTestId('range-7d');
  await tabTo(page, week);
  await expectFocusRing(page);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/range=7d/);
  await expect(week).toHaveAttribute('aria-current', 'true');

  // Threats: filter to the four just sent.
  await tabTo(page, page.getByRole('link', { name: 'Threats' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/threats/);
  await tabTo(page, page.getByTestId('filter-search'));
  await page.keyboard.type(`${prefix}.`);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`q=${prefix.replace(/\./g, '\\.')}`));
  const rows = page.getByTestId('threat-row');
  await expect(rows).toHaveCount(4);

  // Select three: Space ticks the first, Shift+Space on the third ticks the range.
  const boxes = page.getByTestId('select-row');
  await tabTo(page, boxes.nth(0));
  await expectFocusRing(page);
  await page.keyboard.press('Space');
  await expect(page.getByTestId('selected-count')).toHaveText('1 selected');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(boxes.nth(2)).toBeFocused();
  await page.keyboard.press('Shift+Space');
  await expect(page.getByTestId('selected-count')).toHaveText('3 selected');
  for (const i of [0, 1, 2]) await expect(boxes.nth(i)).toBeChecked();
  await expect(boxes.nth(3)).not.toBeChecked();

  // Resolve them; the message takes the focus from the re-rendered button.
  await tabTo(page, page.getByTestId('resolve'));
  await expectFocusRing(page);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('action-message')).toHaveText('Resolved 3 threats.');
  await expect(page.getByTestId('action-message')).toBeFocused();
  await expect(rows).toHaveCount(1);

  // Rate a request: the explorer, filtered to one user, then one of its requests.
  await tabTo(page, page.getByRole('link', { name: 'Requests' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/requests/);
  await tabTo(page, page.getByTestId('filter-user'));
  await page.keyboard.type('user-0');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/user=user-0/);
  await tabTo(page, page.locator('a[href="/requests/fixture-3"]'));
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('field-request-id')).toHaveText('fixture-3');

  // The stars are a radio group: the arrow keys choose, Enter submits.
  const first = page.getByRole('radio', { name: '1 star', exact: true });
  await tabTo(page, first);
  await expectFocusRing(page, 'label');
  await page.keyboard.press('Space');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('radio', { name: '4 stars' })).toBeChecked();
  await expect(page.getByRole('radio', { name: '4 stars' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('rating-comment')).toBeFocused();
  await page.keyboard.type('Rated from the keyboard.');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('rating-message')).toHaveText('Rating saved.');
  const mine = page.getByTestId('rating').filter({ hasText: `${ACCOUNTS.admin.username} (dashboard)` });
  await expect(mine.locator('[aria-label="4 stars"]')).toHaveCount(1);
  await expect(mine.getByTestId('rating-text')).toHaveText('Rated from the keyboard.');

  // Sign out.
  await tabTo(page, page.getByTestId('logout'));
  await expectFocusRing(page);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/login$/);
});

test('the dashboard announces each refresh politely, without moving the focus', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.keyboard.type(ACCOUNTS.admin.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ACCOUNTS.admin.password);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/?refresh=2');
  await hydrated(page);
  const announcement = page.getByTestId('refresh-announcement');
  await expect(announcement).toHaveAttribute('aria-live', 'polite');
  await expect(announcement).toHaveText(/^Updated \d\d:\d\d:\d\d UTC$/);
  const refresh = page.getByTestId('refresh');
  await tabTo(page, refresh);
  const first = await announcement.textContent();
  await expect(announcement).not.toHaveText(first!, { timeout: 8_000 });
  await expect(refresh).toBeFocused();
});
