import { expect, Page, test } from '@playwright/test';
import { ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Firing alerts, through the read API (the key has both scopes). */
async function firing(): Promise<any[]> {
  const reply = await fetch(`${process.env.SIGHTLINE_E2E_URL}/api/v1/alerts?state=firing`, {
    headers: { authorization: `Bearer ${process.env.SIGHTLINE_E2E_KEY}` },
  });
  expect(reply.status).toBe(200);
  return (await reply.json()).alerts;
}

test('an attack in the traffic shows up in /threats within seconds, as text', async ({ page }) => {
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    d.dismiss();
  });
  const payload = 'q=<img src=x onerror=alert(9)>';
  await ingest({
    requests: [{
      request_id: `attack-${Date.now()}`, timestamp: Date.now() - 1000, endpoint: '/v1/search',
      method: 'GET', status_code: 200, latency_ms: 35, ip: '192.0.2.123', query: payload,
    }],
  });
  const rows = page.getByTestId('threat-row');
  await expect(async () => {
    await open(page, '/threats?type=xss&q=192.0.2.123');
    await expect(rows).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId('threat-description')).toHaveText(
    `cross-site scripting (libinjection) in the query string: ?${payload}`,
  );
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(dialogs).toBe(0);
});

test('an outage fires an alert that the dashboard shows', async ({ page }) => {
  const t = Date.now() - 60_000;
  await ingest({
    requests: Array.from({ length: 12 }, (_, i) => ({
      request_id: `outage-${Date.now()}-${i}`, timestamp: t + i, endpoint: '/v1/chat/completions',
      method: 'POST', status_code: 503, latency_ms: 30_000, error: 'upstream timed out',
    })),
  });
  await expect.poll(async () => (await firing()).map((a) => a.rule), { timeout: 15_000 }).toContain('error_burst');
  await open(page, '/');
  const card = page.getByTestId('card-alerts');
  await expect(card).toContainText(/\d+ server errors in the last 5 minutes/);
  await expect(card).not.toContainText('All clear');
});
