import * as fs from 'node:fs';
import { expect, Page, test } from '@playwright/test';
import { ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

// An address and users no other test sends, so the narrowed figures are exact.
const IP = '198.18.0.7';

test.beforeAll(async () => {
  const now = Date.now();
  const event = (minutesAgo: number, event_type: string, user_id: string) => ({
    event_type,
    user_id,
    ip: IP,
    timestamp: now - minutesAgo * 60_000,
  });
  await ingest({
    auth_events: [
      event(9, 'login_failed', 'e2e-sec-a'),
      event(8, 'login_failed', 'e2e-sec-a'),
      event(7, 'login_failed', 'e2e-sec-b'),
      event(6, 'login', 'e2e-sec-a'),
    ],
  });
});

test('the security view opens, filters, drills down and exports', async ({ page }) => {
  await open(page, '/security?range=24h');
  await expect(page.getByRole('heading', { name: 'Security' })).toBeVisible();
  await expect(page.getByTestId('failing-ips-row').filter({ hasText: IP })).toHaveCount(1);

  // Filter by the address: the URL carries it, the figures are exactly its events.
  await page.getByTestId('filter-ip').fill(IP);
  await page.getByTestId('filter-apply').click();
  await expect(page).toHaveURL(/[?&]ip=198\.18\.0\.7/);
  await expect(page.getByTestId('security-events-value')).toHaveText('4');
  await expect(page.getByTestId('security-failures-value')).toHaveText('3');
  await expect(page.getByTestId('security-failure-rate-value')).toHaveText('75.0%');
  const users = page.getByTestId('failing-users-row');
  await expect(users).toHaveCount(2);
  await expect(users.first()).toHaveAttribute('data-key', 'e2e-sec-a');

  // Drill down to the user who fails most, keeping the address.
  await users.first().getByRole('link').click();
  await expect(page).toHaveURL(/user=e2e-sec-a/);
  await expect(page).toHaveURL(/ip=198\.18\.0\.7/);
  await expect(page.getByTestId('security-events-value')).toHaveText('3');
  await expect(page.getByTestId('security-failures-value')).toHaveText('2');

  // The export downloads the same events, newest first.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toMatch(/^sightline-auth-events-\d{8}-\d{4}\.csv$/);
  const lines = fs.readFileSync((await download.path())!, 'utf8').split('\r\n');
  expect(lines[0]).toBe('id,created_at,event_type,success,user_id,ip,user_agent,error,metadata');
  expect(lines).toHaveLength(5); // header, three events, the final line end
  expect(lines.slice(1, 4).map((l) => l.split(',').slice(2, 6).join(','))).toEqual([
    `login,true,e2e-sec-a,${IP}`,
    `login_failed,false,e2e-sec-a,${IP}`,
    `login_failed,false,e2e-sec-a,${IP}`,
  ]);

  // A type the view does not know is named.
  await open(page, '/security?type=sudo');
  await expect(page.getByRole('alert')).toContainText('unknown type `sudo`');
});

test('the dashboard card leads to the security view', async ({ page }) => {
  await open(page, '/?range=24h');
  const card = page.getByTestId('card-sign-ins');
  await expect(card.getByTestId('sign-ins-failures-value')).not.toHaveText('0');
  await card.getByTestId('sign-ins-link').click();
  await expect(page).toHaveURL(/\/security\?range=24h$/);
  await expect(page.getByTestId('card-auth-events')).toBeVisible();
});

// The page frame's own width at 390 px is the every-page check of the layout; here, no
// card of the view overflows: its tables scroll inside the card.
test("the security view's cards fit a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await open(page, '/security?range=7d');
  await expect(page.getByTestId('card-failing-ips')).toBeVisible();
  const overflowing = await page.$$eval('[data-testid="security"] .card', (cards) =>
    cards.filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.getAttribute('data-testid')),
  );
  expect(overflowing).toEqual([]);
});
