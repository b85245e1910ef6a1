import { expect, test } from '@playwright/test';
import { insertRequests, withDb } from '../support';

test('the dashboard hydrates, draws its chart and shows the database numbers', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  // The fixture of global-setup.ts: 12 requests, 3 failed.
  await expect(page.getByTestId('total-requests')).toHaveText('12');
  await expect(page.getByTestId('total-errors')).toHaveText('3');
  await expect(page.getByTestId('error-rate')).toHaveText('25.0%');

  // ECharts drew into a canvas with a real size, with pixels on it.
  const canvas = page.locator('#chart-requests canvas');
  await expect(canvas).toHaveCount(1);
  const box = await canvas.boundingBox();
  expect(box!.width).toBeGreaterThan(200);
  expect(box!.height).toBeGreaterThan(100);
  const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
  expect(painted).toBeGreaterThan(500);
});

test('refresh fetches new data without reloading the page', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const before = Number(await page.getByTestId('total-requests').getAttribute('title'));

  // A marker on the window survives only if the page is not reloaded.
  await page.evaluate(() => ((window as any).__sameDocument = true));
  await withDb((db) => insertRequests(db, 'refresh', 5, 1));
  await page.getByTestId('refresh').click();

  await expect(page.getByTestId('total-requests')).toHaveAttribute('title', String(before + 5));
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  await expect(page.getByTestId('updated')).toContainText('Updated');
});

test('an unknown address shows a not-found page with status 404', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response!.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
