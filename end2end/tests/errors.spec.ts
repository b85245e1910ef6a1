import { createHash } from 'crypto';
import * as fs from 'fs';
import { expect, Page, test } from '@playwright/test';
import { ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** The group's fingerprint, as the server computes it: 16 hex digits of its key's SHA-256. */
function fingerprint(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

test('the errors view groups messages, sorts, follows the range, drills down and exports', async ({ page }) => {
  // Groups of their own (letters only: digits would be taken for variable parts).
  const run = Date.now();
  const tag = String(run).replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]);
  const widget = `e2e widget ${tag} exploded for user <str>`;
  const quota = `e2e quota ${tag} gone after <n> tries`;
  const failed = (id: string, t: number, status: number, error: string) => ({
    request_id: `err-${id}-${run}`, timestamp: t, endpoint: `/e2e/${tag}`, method: 'POST',
    status_code: status, latency_ms: 20, error,
  });
  await ingest({
    requests: [
      failed('w1', run - 120_000, 503, `e2e widget ${tag} exploded for user 'ann'`),
      failed('w2', run - 90_000, 503, `e2e widget ${tag} exploded for user 'bo'`),
      failed('w3', run - 60_000, 500, `e2e widget ${tag} exploded for user "cy"`),
      failed('q1', run - 1_000, 429, `e2e quota ${tag} gone after 12 tries`),
    ],
  });

  await open(page, '/errors?range=24h');
  const row = (key: string) => page.locator(`[data-testid="error-row"][data-fingerprint="${fingerprint(key)}"]`);
  await expect(row(widget)).toHaveCount(1);
  await expect(row(widget).getByTestId('error-count')).toHaveText('3');
  await expect(row(widget).getByTestId('error-statuses')).toHaveText('503 ×2, 500 ×1');
  await expect(row(widget).getByTestId('error-endpoints')).toHaveText(`/e2e/${tag} ×3`);
  await expect(row(widget).getByTestId('error-example')).toHaveText(`e2e widget ${tag} exploded for user 'ann'`);
  await expect(row(widget).getByTestId('error-new')).toHaveText('New');
  await expect(row(quota).getByTestId('error-count')).toHaveText('1');

  // By count the widget's group comes before the quota's; by last seen after it.
  const order = async () => page.getByTestId('error-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-fingerprint')));
  let listed = await order();
  expect(listed.indexOf(fingerprint(widget))).toBeLessThan(listed.indexOf(fingerprint(quota)));
  await page.getByTestId('sort-last_seen').click();
  await expect(page).toHaveURL(/\/errors\?range=24h&sort=last_seen$/);
  await expect(page.getByTestId('sort-last_seen')).toHaveAttribute('aria-current', 'true');
  await expect(row(quota)).toHaveCount(1);
  listed = await order();
  expect(listed.indexOf(fingerprint(quota))).toBeLessThan(listed.indexOf(fingerprint(widget)));

  // Another range keeps the sort.
  await page.getByTestId('range-7d').click();
  await expect(page).toHaveURL(/\/errors\?range=7d&sort=last_seen$/);
  await expect(row(widget).getByTestId('error-count')).toHaveText('3');

  // The view's export: every group of the range, in the view's order.
  const [groups] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(groups.suggestedFilename()).toMatch(/^sightline-errors-\d{8}-\d{4}\.csv$/);
  const exported = fs.readFileSync((await groups.path())!, 'utf8').split('\r\n');
  expect(exported[0]).toBe('fingerprint,pattern,example,requests,first_seen_at,last_seen_at,group_first_seen_at,is_new,statuses,endpoints');
  expect(exported.find((l) => l.startsWith(`${fingerprint(widget)},`))).toContain(`,3,`);

  // The group's requests in the explorer, and their export.
  await row(widget).getByTestId('error-requests').click();
  await expect(page).toHaveURL(new RegExp(`/requests\\?range=all&error_group=${fingerprint(widget)}&since=\\d+&until=\\d+$`));
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('request-row')).toHaveCount(3);
  await expect(page.getByTestId('session-scope')).toContainText('Limited to one error group.');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const lines = fs.readFileSync((await download.path())!, 'utf8').split('\r\n');
  expect(lines[0].split(',')[0]).toBe('request_id');
  expect(lines.slice(1, 4).map((l) => l.split(',')[0])).toEqual([`err-w3-${run}`, `err-w2-${run}`, `err-w1-${run}`]);
  expect(lines).toHaveLength(5); // header, three requests, the final line end

  // A sort the view does not know is named.
  await open(page, '/errors?sort=newest');
  await expect(page.getByRole('alert')).toContainText('sort `newest` is unknown');
});

test('the dashboard card lists the top errors and leads to the view', async ({ page }) => {
  await open(page, '/?range=24h');
  const card = page.getByTestId('card-top-errors');
  await expect(card).toBeVisible();
  await expect(card.getByTestId('top-error-row').first()).toBeVisible();
  await card.getByTestId('all-errors').click();
  await expect(page).toHaveURL(/\/errors\?range=24h$/);
  await expect(page.getByTestId('errors-table')).toBeVisible();
});
