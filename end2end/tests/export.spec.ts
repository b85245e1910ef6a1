import * as fs from 'node:fs';
import { expect, Page, test } from '@playwright/test';
import { ingest } from '../support';

async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** Clicks the view's "Export CSV" and returns the downloaded file's name and text. */
async function exportCsv(page: Page): Promise<[string, string]> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  return [download.suggestedFilename(), fs.readFileSync((await download.path())!, 'utf8')];
}

test('the threats view exports what its filter shows, as CSV', async ({ page }) => {
  await ingest({
    threats: [{ threat_type: 'path_traversal', severity: 'critical', ip: '203.0.113.66', user_id: '=HYPERLINK("x")', description: 'GET /../../etc/passwd, "twice"' }],
  });
  await open(page, '/threats?type=path_traversal&severity=critical');
  await expect(page.getByTestId('threat-row')).toHaveCount(1);
  const [name, csv] = await exportCsv(page);
  expect(name).toMatch(/^sightline-threats-\d{8}-\d{4}\.csv$/);
  const lines = csv.split('\r\n');
  expect(lines[0]).toBe(
    'id,created_at,last_seen_at,threat_type,severity,occurrences,ip,user_id,country,endpoint,request_id,description,resolved,resolved_at,resolved_by',
  );
  expect(lines).toHaveLength(3); // header, one row, and the final line end
  expect(lines[2]).toBe('');
  const row = lines[1];
  expect(row).toContain(',path_traversal,critical,1,203.0.113.66,');
  // A formula is neutralised; quotes and commas are quoted per RFC 4180.
  expect(row).toContain(`,"'=HYPERLINK(""x"")",`);
  expect(row).toContain(',"GET /../../etc/passwd, ""twice""",');
});

test('the requests explorer exports its filter across every page', async ({ page }) => {
  await open(page, '/requests?range=24h&status=5xx&user=user-0');
  const shown = await page.getByTestId('request-row').count();
  expect(shown).toBeGreaterThan(0);
  const [, csv] = await exportCsv(page);
  const rows = csv.split('\r\n').filter((l) => l.length > 0);
  expect(rows[0].startsWith('request_id,created_at,kind,')).toBe(true);
  expect(rows.length - 1).toBe(shown);
  for (const row of rows.slice(1)) expect(row).toMatch(/,500,/);
});
