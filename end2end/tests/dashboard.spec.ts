import { expect, Page, test } from '@playwright/test';
import { ingest, requests } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Whether ECharts drew something into the chart's canvas. */
async function painted(page: Page, id: string): Promise<number> {
  const canvas = page.locator(`#${id} canvas`);
  await expect(canvas).toHaveCount(1);
  return canvas.evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
}

test('every card shows the fixture and every chart draws', async ({ page }) => {
  await open(page, '/');
  const value = (id: string) => page.getByTestId(`summary-${id}-value`);
  await expect(value('requests')).toHaveAttribute('title', '12');
  await expect(value('requests')).toHaveText('12');
  await expect(value('error-rate')).toHaveText('25.0%');
  // 12 × (1 000 prompt tokens at $2.50/M + 500 completion at $10/M) = $0.09.
  await expect(value('cost')).toHaveAttribute('title', '90000');
  await expect(value('cost')).toHaveText('$0.090');
  await expect(value('tokens')).toHaveText('18k');
  await expect(value('active-users')).toHaveText('3');
  await expect(value('open-threats')).toHaveText('1');
  await expect(page.getByTestId('models-table')).toContainText('gpt-4o');
  await expect(page.getByTestId('countries-table').locator('tbody tr')).toHaveCount(3);
  await expect(page.getByTestId('errors-list')).toContainText('500');
  await expect(page.getByTestId('feedback-count')).toHaveText('2');
  await expect(page.getByTestId('feedback-average')).toHaveText('4.50 ★');
  await expect(page.getByTestId('threats-high')).toHaveText('1 high');
  // The threat's payload is shown as text, never run.
  await expect(page.getByTestId('threats-list')).toContainText('<img src=x onerror=alert(1)>');
  for (const id of ['chart-requests', 'chart-errors', 'chart-latency', 'chart-costs']) {
    expect(await painted(page, id), id).toBeGreaterThan(300);
  }
});

test('switching ranges updates the cards and the URL; back and forward work', async ({ page }) => {
  await open(page, '/');
  const requestsValue = page.getByTestId('summary-requests-value');
  await expect(requestsValue).toHaveAttribute('title', '12');
  await page.getByTestId('range-7d').click();
  await expect(page).toHaveURL(/\?range=7d$/);
  await expect(requestsValue).toHaveAttribute('title', '13');
  await expect(page.getByTestId('range-7d')).toHaveAttribute('aria-current', 'true');
  await page.getByTestId('range-1m').click();
  await expect(page).toHaveURL(/\?range=1m$/);
  await expect(requestsValue).toHaveAttribute('title', '13');
  await page.goBack();
  await expect(page).toHaveURL(/\?range=7d$/);
  await page.goBack();
  await expect(requestsValue).toHaveAttribute('title', '12');
  await page.goForward();
  await expect(requestsValue).toHaveAttribute('title', '13');
});

test('a custom range comes from the date inputs', async ({ page }) => {
  await open(page, '/');
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  await page.getByTestId('range-start').fill(day(-4));
  await page.getByTestId('range-end').fill(day(-2));
  await page.getByTestId('range-apply').click();
  await expect(page).toHaveURL(new RegExp(`range=custom&start=${day(-4)}&end=${day(-2)}`));
  await expect(page.getByTestId('summary-requests-value')).toHaveAttribute('title', '1');
});

test('the dashboard refreshes itself without reloading the page', async ({ page }) => {
  // A 2-second interval for the test; the default is 30 seconds.
  await open(page, '/?refresh=2');
  const requestsValue = page.getByTestId('summary-requests-value');
  const before = Number(await requestsValue.getAttribute('title'));
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await ingest({ requests: requests(`live-${Date.now()}`, 5, 1) });
  await expect(requestsValue).toHaveAttribute('title', String(before + 5), { timeout: 8_000 });
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await expect(page.getByTestId('updated')).toContainText('Updated');
  // The refresh button fetches at once too.
  await ingest({ requests: requests(`button-${Date.now()}`, 1, 0) });
  await page.getByTestId('refresh').click();
  await expect(requestsValue).toHaveAttribute('title', String(before + 6));
});

/** Makes the page believe its tab is hidden (or shown again), as switching tabs would. */
function setHidden(page: Page, hidden: boolean) {
  return page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('a hidden tab does not refresh', async ({ page }) => {
  await open(page, '/?refresh=1');
  const requestsValue = page.getByTestId('summary-requests-value');
  await expect(page.getByTestId('updated')).toContainText('Updated');
  const before = Number(await requestsValue.getAttribute('title'));
  await setHidden(page, true);
  await ingest({ requests: requests(`hidden-${Date.now()}`, 2, 0) });
  // Three refresh intervals pass while hidden: nothing is fetched.
  await page.waitForTimeout(3_000);
  await expect(requestsValue).toHaveAttribute('title', String(before));
  await setHidden(page, false);
  await expect(requestsValue).toHaveAttribute('title', String(before + 2));
});

test('showing the tab again refreshes at once, not at the next interval', async ({ page }) => {
  // The default 30-second interval: an update within 3 s can only come from the tab
  // becoming visible.
  await open(page, '/');
  const requestsValue = page.getByTestId('summary-requests-value');
  await expect(page.getByTestId('updated')).toContainText('Updated');
  const before = Number(await requestsValue.getAttribute('title'));
  await setHidden(page, true);
  await ingest({ requests: requests(`shown-${Date.now()}`, 3, 0) });
  await setHidden(page, false);
  await expect(requestsValue).toHaveAttribute('title', String(before + 3), { timeout: 3_000 });
});

test('an unknown address shows a not-found page with status 404', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response!.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
