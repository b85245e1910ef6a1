import { expect, Page, test } from '@playwright/test';
import { ACCOUNTS, STORAGE, ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

function threats(type: string, count: number, prefix: string): object[] {
  return Array.from({ length: count }, (_, i) => ({
    threat_type: type,
    severity: 'medium',
    ip: `${prefix}.${Math.floor(i / 250)}.${i % 250}`,
    description: `${type} probe ${i}`,
  }));
}

test('an admin resolves 50 selected threats in one action', async ({ page }) => {
  await ingest({ threats: threats('sql_injection', 50, '10.50') });
  await open(page, '/threats?type=sql_injection');
  const rows = page.getByTestId('threat-row');
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId('threat-total')).toHaveText('50 matching');
  await page.getByTestId('select-page').check();
  await expect(page.getByTestId('selected-count')).toHaveText('50 selected');
  await page.getByTestId('resolve').click();
  await expect(page.getByTestId('action-message')).toHaveText('Resolved 50 threats.');
  await expect(page.getByTestId('threats-empty')).toBeVisible();
  // Who and when are recorded.
  await page.getByTestId('filter-state').selectOption('resolved');
  await page.getByTestId('filter-apply').click();
  await expect(page).toHaveURL(/state=resolved/);
  await expect(rows).toHaveCount(50);
  await expect(rows.first().getByTestId('threat-state')).toContainText(`Resolved by ${ACCOUNTS.admin.username}`);
});

test('"all matching the filter" reaches past the first page, and Reopen undoes it', async ({ page }) => {
  await ingest({ threats: threats('scanner', 60, '10.60') });
  await open(page, '/threats?type=scanner');
  await expect(page.getByTestId('threat-row')).toHaveCount(50);
  await expect(page.getByTestId('threat-total')).toHaveText('60 matching');
  await page.getByTestId('select-page').check();
  await page.getByTestId('select-all-matching').click();
  await expect(page.getByTestId('selected-count')).toHaveText('60 selected');
  await page.getByTestId('resolve').click();
  await expect(page.getByTestId('action-message')).toHaveText('Resolved 60 threats.');
  await expect(page.getByTestId('threats-empty')).toBeVisible();

  await open(page, '/threats?type=scanner&state=resolved');
  await expect(page.getByTestId('threat-total')).toHaveText('60 matching');
  await page.getByTestId('next-page').click();
  await expect(page.getByTestId('threat-row')).toHaveCount(10);
  await page.getByTestId('select-row').first().check();
  await expect(page.getByTestId('selected-count')).toHaveText('1 selected');
  await page.getByTestId('reopen').click();
  await expect(page.getByTestId('action-message')).toHaveText('Reopened 1 threat.');
  await open(page, '/threats?type=scanner');
  await expect(page.getByTestId('threat-row')).toHaveCount(1);
});

test('filters combine and live in the URL', async ({ page }) => {
  await open(page, '/threats?state=all');
  await page.getByTestId('filter-type').selectOption('xss');
  await page.getByTestId('filter-search').fill('198.51.100');
  await page.getByTestId('filter-apply').click();
  await expect(page).toHaveURL(/type=xss/);
  await expect(page).toHaveURL(/q=198\.51\.100/);
  await expect(page.getByTestId('threat-row')).toHaveCount(1);
  // The ingested payload is shown as text, never run.
  await expect(page.getByTestId('threat-description')).toHaveText('<img src=x onerror=alert(1)>');
  await page.goBack();
  await expect(page).toHaveURL(/\/threats\?state=all$/);
});

test.describe('as a viewer', () => {
  test.use({ storageState: STORAGE.viewer });

  test('threats are listed but cannot be resolved', async ({ page }) => {
    await open(page, '/threats?state=all');
    await expect(page.getByTestId('account-role')).toHaveText('viewer');
    await expect(page.getByTestId('threat-row').first()).toBeVisible();
    await expect(page.getByTestId('bulk-actions')).toHaveCount(0);
    await expect(page.getByTestId('select-row')).toHaveCount(0);
    // Calling the server function directly is refused too.
    const reply = await page.request.post('/api/ui/admin/threat_state', {
      data: { selection: { kind: 'ids', value: [1] }, resolve: true },
      headers: { origin: new URL(page.url()).origin },
    });
    expect(reply.status()).toBe(403);
  });
});
