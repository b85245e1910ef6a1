import { expect, Page, test } from '@playwright/test';
import { ACCOUNTS, ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('a reviewer rates a response and changes the rating', async ({ page }) => {
  await open(page, '/requests?range=24h&user=user-1');
  // fixture-1, -4, -7 and -10 belong to user-1 (and whatever other tests sent for them).
  await expect(page.locator('[data-testid="request-row"][data-request-id^="fixture-"]')).toHaveCount(4);
  await page.locator('a[href="/requests/fixture-7"]').click();
  await expect(page).toHaveURL(/\/requests\/fixture-7$/);
  await expect(page.getByTestId('field-request-id')).toHaveText('fixture-7');
  // Its (inferred) session links to the session's requests in the explorer.
  await expect(page.getByTestId('session-all-requests')).toHaveAttribute(
    'href',
    /^\/requests\?range=all&user=user-1&since=\d+&until=\d+$/,
  );

  const mine = page.getByTestId('rating').filter({ hasText: `${ACCOUNTS.admin.username} (dashboard)` });
  await page.getByTestId('star-4').click();
  await page.getByTestId('rating-comment').fill('Good answer, a bit long.');
  await page.getByTestId('rating-submit').click();
  await expect(page.getByTestId('rating-message')).toHaveText('Rating saved.');
  await expect(mine).toHaveCount(1);
  await expect(mine.locator('[aria-label="4 stars"]')).toHaveCount(1);
  await expect(mine.getByTestId('rating-text')).toHaveText('Good answer, a bit long.');

  // Rating again changes the same rating; after a reload the widget shows it.
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByRole('radio', { name: '4 stars' })).toBeChecked();
  await page.getByTestId('star-2').click();
  await page.getByTestId('rating-comment').fill('Wrong on second reading.');
  await page.getByTestId('rating-submit').click();
  await expect(page.getByTestId('rating-message')).toHaveText('Rating saved.');
  await expect(mine).toHaveCount(1);
  await expect(mine.locator('[aria-label="2 stars"]')).toHaveCount(1);
  await expect(mine.getByTestId('rating-text')).toHaveText('Wrong on second reading.');
});

test('markup in ingested endpoint, user agent and error is shown as text everywhere', async ({ page }) => {
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    d.dismiss();
  });
  const endpoint = '/v1/<script>alert(1)</script>';
  const agent = '<img src=x onerror=alert(2)>';
  const error = '<img src=x onerror=alert(3)><b>bold</b>';
  await ingest({
    requests: [{
      request_id: `xss-${Date.now()}`, timestamp: Date.now() - 1000, endpoint, method: 'POST',
      status_code: 500, latency_ms: 12, user_agent: agent, error, user_id: 'mallory', country: 'US',
    }],
  });
  await open(page, '/requests?range=24h&user=mallory');
  await expect(page.getByTestId('request-row')).toHaveCount(1);
  await expect(page.getByTestId('request-row')).toContainText(endpoint);
  await page.getByTestId('request-link').first().click();
  await expect(page.getByTestId('field-endpoint')).toHaveText(endpoint);
  await expect(page.getByTestId('field-error')).toHaveText(error);
  await expect(page.getByTestId('request-detail')).toContainText(agent);
  // The dashboard's error list and the threats view show such text as text too.
  await open(page, '/');
  await expect(page.getByTestId('errors-list')).toBeVisible();
  expect(await page.locator('b:text("bold")').count()).toBe(0);
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(dialogs).toBe(0);
});
