import { expect, Page, test } from '@playwright/test';
import { ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

test('the endpoints view sorts, follows the range and drills down into the explorer', async ({ page }) => {
  // Endpoints of their own, so other tests' traffic does not reorder them.
  const run = Date.now();
  const slow = `/e2e/${run}/slow`;
  const busy = `/e2e/${run}/busy`;
  const requests = [
    ...[0, 1, 2, 3].map((i) => ({
      request_id: `ep-busy-${run}-${i}`, timestamp: run - 60_000, endpoint: busy, method: 'GET',
      status_code: 200, latency_ms: 10 + i,
    })),
    {
      request_id: `ep-slow-${run}`, timestamp: run - 60_000, endpoint: slow, method: 'POST',
      status_code: 500, latency_ms: 600_000,
    },
  ];
  await ingest({ requests });

  await open(page, '/endpoints?range=24h');
  await expect(page.getByRole('link', { name: 'Endpoints' }).first()).toBeVisible();
  const row = (endpoint: string) => page.locator(`[data-testid="endpoint-row"][data-endpoint="${endpoint}"]`);
  await expect(row(busy)).toHaveCount(1);
  await expect(row(busy).getByTestId('endpoint-requests-count')).toHaveText('4');

  // Sorted by p95, the slow endpoint (10 minutes) comes first; the sort is in the URL.
  await page.getByTestId('sort-p95').click();
  await expect(page).toHaveURL(/\/endpoints\?range=24h&sort=p95$/);
  await expect(page.getByTestId('sort-p95')).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('endpoint-row').first()).toHaveAttribute('data-endpoint', slow);
  await expect(page.getByTestId('selected-endpoint')).toHaveText(slow);

  // Another range keeps the sort.
  await page.getByTestId('range-7d').click();
  await expect(page).toHaveURL(/\/endpoints\?range=7d&sort=p95$/);
  await expect(page.getByTestId('endpoint-row').first()).toHaveAttribute('data-endpoint', slow);

  // Choosing an endpoint for the chart, then its requests in the explorer.
  await row(busy).getByTestId('endpoint-chart').click();
  await expect(page.getByTestId('selected-endpoint')).toHaveText(busy);
  await row(busy).getByTestId('endpoint-requests').click();
  await expect(page).toHaveURL(/\/requests\?range=all&endpoint=[^&]+&since=\d+&until=\d+$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('request-row')).toHaveCount(4);
});

test('the dashboard card lists the busiest endpoints and leads to the view', async ({ page }) => {
  await open(page, '/?range=24h');
  const card = page.getByTestId('card-endpoints');
  await expect(card).toBeVisible();
  await card.getByTestId('all-endpoints').click();
  await expect(page).toHaveURL(/\/endpoints\?range=24h$/);
  await expect(page.getByTestId('endpoints-table')).toBeVisible();
});
