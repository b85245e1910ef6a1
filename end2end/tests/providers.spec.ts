import * as fs from 'node:fs';
import { expect, Page, test } from '@playwright/test';
import { ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('the providers view sorts, charts, drills down, exports, and the user shows their provider cost', async ({ page }) => {
  // Providers and a user of their own, so other tests' traffic does not reorder them.
  const run = Date.now();
  const busy = `e2e-busy-${run}`;
  const dear = `e2e-dear-${run}`;
  const user = `e2e-payer-${run}`; // not "user-N": other specs pick users by that text
  const call = (id: string, service: string, status: number, cost: number, userId?: string) => ({
    request_id: id, timestamp: run - 60_000, kind: 'external', service, endpoint: '/v1/chat/completions',
    method: 'POST', status_code: status, latency_ms: 120, prompt_tokens: 10, completion_tokens: 5,
    cost_usd: cost, user_id: userId,
  });
  await ingest({
    requests: [
      ...[0, 1, 2].map((i) => call(`pv-busy-${run}-${i}`, busy, i === 0 ? 502 : 200, 0.001, user)),
      call(`pv-dear-${run}`, dear, 200, 2.5),
      { request_id: `pv-own-${run}`, timestamp: run - 60_000, endpoint: '/v1/chat', method: 'POST',
        status_code: 200, latency_ms: 80, cost_usd: 0.004, user_id: user },
    ],
  });

  await open(page, '/providers?range=24h');
  const row = (service: string) => page.locator(`[data-testid="provider-row"][data-service="${service}"]`);
  await expect(row(busy).getByTestId('provider-calls')).toHaveText('3');
  await expect(row(busy).getByTestId('provider-errors')).toContainText('1');
  await expect(row(dear).getByTestId('provider-cost')).toHaveText('$2.50');
  await expect(page.locator('#chart-provider-costs canvas')).toBeVisible();

  // Sorted by cost, the dear provider comes first and is charted; the sort is in the URL.
  await page.getByTestId('sort-cost').click();
  await expect(page).toHaveURL(/\/providers\?range=24h&sort=cost$/);
  await expect(page.getByTestId('sort-cost')).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('provider-row').first()).toHaveAttribute('data-service', dear);
  await expect(page.getByTestId('selected-provider')).toHaveText(dear);

  // Another range keeps the sort; another provider's calls chart.
  await page.getByTestId('range-7d').click();
  await expect(page).toHaveURL(/\/providers\?range=7d&sort=cost$/);
  await row(busy).getByTestId('provider-chart').click();
  await expect(page.getByTestId('selected-provider')).toHaveText(busy);
  await expect(page.locator('#chart-provider canvas')).toBeVisible();

  // The export downloads the range's provider calls.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(download.suggestedFilename()).toMatch(/^sightline-requests-\d{8}-\d{4}\.csv$/);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  for (const id of [`pv-busy-${run}-0`, `pv-dear-${run}`]) expect(csv).toContain(id);
  expect(csv).not.toContain(`pv-own-${run}`);

  // Drill-down: the provider's calls in the explorer, with the kind and provider filters set.
  await row(busy).getByTestId('provider-calls-link').click();
  await expect(page).toHaveURL(/\/requests\?range=all&kind=external&service=[^&]+&since=\d+&until=\d+$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('request-row')).toHaveCount(3);
  await expect(page.getByTestId('filter-kind')).toHaveValue('external');
  await expect(page.getByTestId('filter-service')).toHaveValue(busy);

  // The user's page: own API cost and, apart, the provider cost of their calls.
  await open(page, `/users/${user}`);
  await expect(page.getByTestId('user-cost')).toHaveText('$0.004');
  await expect(page.getByTestId('user-provider-cost')).toHaveText('$0.003 (3 calls)');
  await expect(page.locator(`[data-testid="user-provider-row"][data-service="${busy}"]`)).toBeVisible();
});

test('the dashboard card totals the provider calls and leads to the view', async ({ page }) => {
  await open(page, '/?range=24h');
  const card = page.getByTestId('card-providers');
  await expect(card).toBeVisible();
  await expect(card.getByTestId('top-provider-row').first()).toBeVisible();
  await card.getByTestId('all-providers').click();
  await expect(page).toHaveURL(/\/providers\?range=24h$/);
  await expect(page.getByTestId('providers-table')).toBeVisible();
});
