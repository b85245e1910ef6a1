import { expect, Page, test } from '@playwright/test';
import { ingest, STORAGE } from '../support';

// The files run in name order on one server: this one spends today's money, so it comes
// after dashboard.spec.ts, whose figures are exact.

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** The keys of the firing budget alerts, through the read API. */
async function firingBudgetKeys(): Promise<string[]> {
  const reply = await fetch(`${process.env.SIGHTLINE_E2E_URL}/api/v1/alerts?state=firing`, {
    headers: { authorization: `Bearer ${process.env.SIGHTLINE_E2E_KEY}` },
  });
  expect(reply.status).toBe(200);
  return (await reply.json()).alerts.filter((a: any) => a.rule === 'budget').map((a: any) => a.key).sort();
}

test('an admin sets a daily budget, is told it is spent, gives a user their own, and goes back', async ({ page }) => {
  page.on('dialog', (d) => d.accept());
  await open(page, '/settings');
  const section = page.getByTestId('settings-budgets');
  const daily = section.locator('[data-testid="budget-row"][data-budget="daily"]');
  await expect(daily.getByTestId('budget-limit')).toHaveText('none');

  // Five cents spent today; a budget of one cent a day.
  await ingest({
    requests: [{
      request_id: `budget-${Date.now()}`, timestamp: Date.now() - 1000, endpoint: '/v1/chat/completions',
      method: 'POST', status_code: 200, latency_ms: 300, model: 'gpt-4o', cost_usd: 0.05, user_id: 'e2e-budget-user',
    }],
  });
  await section.getByTestId('budget-daily').fill('0.01');
  await section.getByTestId('set-budgets').click();
  await expect(section.getByTestId('budgets-message')).toHaveText('Budgets saved.');
  await expect(daily.getByTestId('budget-limit')).toHaveText('$0.01');
  await expect(daily).toContainText('set here');

  // Both thresholds fire, once, for today.
  const day = new Date().toISOString().slice(0, 10);
  await expect
    .poll(firingBudgetKeys, { timeout: 15_000 })
    .toEqual([`budget:daily:global:${day}:100`, `budget:daily:global:${day}:80`]);

  // The dashboard shows the budget spent, and the alert.
  await open(page, '/');
  const card = page.getByTestId('card-budgets');
  const bar = card.getByTestId('budget-daily');
  await expect(bar.getByTestId('budget-spent')).toContainText('of $0.01');
  await expect(bar.getByRole('progressbar', { name: 'daily budget spent' })).toHaveAttribute('aria-valuenow', '100');
  const percent = Number((await bar.getByTestId('budget-percent').textContent())!.replace('%', ''));
  expect(percent).toBeGreaterThanOrEqual(100);
  await expect(page.getByTestId('card-alerts')).toContainText('Daily budget spent');

  // A user's own budget is listed, and removed.
  await open(page, '/settings');
  await section.getByTestId('user-budget-id').fill('e2e-budget-user');
  await section.getByTestId('user-budget-daily').fill('3');
  await section.getByTestId('set-user-budget').click();
  await expect(section.getByTestId('user-budget-message')).toHaveText('User budget saved.');
  const row = section.locator('[data-testid="user-budget-row"][data-user="e2e-budget-user"]');
  await expect(row).toContainText('$3.00');
  await expect(row).toContainText("each user's");
  await row.getByTestId('remove-user-budget').click();
  await expect(section.getByTestId('user-budget-removed')).toHaveText('User budget removed.');
  await expect(row).toHaveCount(0);

  // Out of bounds: the browser refuses the form; past it, the server answers a clear
  // error, and nothing is saved.
  const monthly = section.getByTestId('budget-monthly');
  await monthly.fill('20000000');
  expect(await monthly.evaluate((e: HTMLInputElement) => e.validity.rangeOverflow)).toBe(true);
  await section.getByTestId('set-budgets').click();
  await expect(section.getByTestId('budgets-message')).toHaveCount(0);
  await monthly.evaluate((e: HTMLInputElement) => e.removeAttribute('max'));
  await section.getByTestId('set-budgets').click();
  await expect(section.getByTestId('budgets-message')).toContainText('from $0.01 to $10,000,000');
  await expect(section.locator('[data-testid="budget-row"][data-budget="monthly"]').getByTestId('budget-limit')).toHaveText('none');

  // Back to the environment's budgets (none here): the global alerts resolve.
  await section.getByTestId('reset-budgets').click();
  await expect(section.getByTestId('budgets-reset-message')).toHaveText("Back to the environment's budgets.");
  await expect(daily.getByTestId('budget-limit')).toHaveText('none');
  await expect.poll(firingBudgetKeys, { timeout: 15_000 }).toEqual([]);
  await open(page, '/');
  await expect(page.getByTestId('card-budgets')).toContainText('No budget set.');
});

test.describe('as a viewer', () => {
  test.use({ storageState: STORAGE.viewer });

  test('viewers see the budgets but cannot change them', async ({ page }) => {
    await open(page, '/settings');
    const section = page.getByTestId('settings-budgets');
    await expect(section.getByTestId('budgets-table')).toBeVisible();
    await expect(section.getByTestId('set-budgets-form')).toHaveCount(0);
    await expect(section.getByTestId('set-user-budget-form')).toHaveCount(0);
  });
});
