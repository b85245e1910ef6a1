// What a new user sees first: every page fits a phone without sideways scrolling, the
// dashboard's grid has no holes at any width, and the first load stays small.
import { expect, Page, test } from '@playwright/test';

/** Every page a signed-in admin reaches, with what shows that it has rendered. */
const PAGES: [string, (page: Page) => Promise<void>][] = [
  ['/', async (page) => { await expect(page.getByTestId('card-summary')).toBeVisible(); }],
  ['/requests', async (page) => { await expect(page.getByTestId('request-row').first()).toBeVisible(); }],
  ['/requests/fixture-5', async (page) => { await expect(page.getByTestId('rating-form')).toBeVisible(); }],
  ['/sessions', async () => {}],
  ['/users', async () => {}],
  ['/users/user-0', async () => {}],
  ['/threats?state=all', async (page) => { await expect(page.getByTestId('threat-row').first()).toBeVisible(); }],
  ['/settings', async (page) => { await expect(page.getByTestId('settings').locator('section').first()).toBeVisible(); }],
  ['/endpoints', async (page) => { await expect(page.getByTestId('endpoints-table')).toBeVisible(); }],
  ['/security', async (page) => { await expect(page.getByTestId('card-security-summary')).toBeVisible(); }],
  ['/errors', async (page) => { await expect(page.getByTestId('errors-table')).toBeVisible(); }],
  ['/providers', async (page) => { await expect(page.getByTestId('providers-table').or(page.getByTestId('providers-empty'))).toBeVisible(); }],
];

/** How far the document is wider than the window (0 when nothing scrolls sideways). */
async function overflow(page: Page): Promise<{ excess: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = window.innerWidth;
    const excess = document.documentElement.scrollWidth - width;
    // The widest elements sticking out, to say what to fix.
    const culprits = Array.from(document.querySelectorAll('body *'))
      .filter((e) => e.getBoundingClientRect().right > width + 0.5)
      .filter((e) => !e.closest('.table-scroll, .sr-only'))
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${(e as HTMLElement).className} right=${Math.round(e.getBoundingClientRect().right)}`);
    return { excess, culprits };
  });
}

test.describe('on a 390 px phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  for (const scheme of ['light', 'dark'] as const) {
    for (const [path, ready] of PAGES) {
      test(`${path} fits without sideways scrolling (${scheme})`, async ({ page }) => {
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(path);
        await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
        await ready(page);
        const { excess, culprits } = await overflow(page);
        expect(excess, `document wider than the window by ${excess}px:\n${culprits.join('\n')}`).toBeLessThanOrEqual(0);
        // The account's sign-out button is on screen, not cut off.
        const signOut = await page.getByTestId('logout').boundingBox();
        expect(signOut).not.toBeNull();
        expect(signOut!.x + signOut!.width).toBeLessThanOrEqual(390);
      });
    }
  }

  test('/login fits without sideways scrolling', async ({ browser }) => {
    const page = await browser.newPage({ storageState: { cookies: [], origins: [] }, viewport: { width: 390, height: 844 } });
    await page.goto('/login');
    await expect(page.getByTestId('login-form')).toBeVisible();
    const { excess, culprits } = await overflow(page);
    expect(excess, culprits.join('\n')).toBeLessThanOrEqual(0);
    await page.close();
  });
});

/**
 * The dashboard's cards as rows of grid cells: for each row, how many columns its cards
 * cover, and the number of columns. A hole is a row (the last one included) whose cards
 * cover fewer columns than the grid has.
 */
async function gridRows(page: Page): Promise<{ columns: number; rows: { top: number; covered: number; cards: string[] }[] }> {
  return page.evaluate(() => {
    const grid = document.querySelector('[data-testid="dashboard"]') as HTMLElement;
    const tracks = getComputedStyle(grid).gridTemplateColumns.split(' ').filter((t) => t.length > 0);
    const gap = parseFloat(getComputedStyle(grid).columnGap) || 0;
    const column = parseFloat(tracks[0]);
    const rows = new Map<number, { top: number; covered: number; cards: string[] }>();
    for (const card of Array.from(grid.children) as HTMLElement[]) {
      const r = card.getBoundingClientRect();
      if (r.width === 0) continue;
      const top = Math.round(r.top);
      const span = Math.round((r.width + gap) / (column + gap));
      const row = rows.get(top) ?? { top, covered: 0, cards: [] };
      row.covered += span;
      row.cards.push(`${card.dataset.testid ?? card.className}×${span}`);
      rows.set(top, row);
    }
    return { columns: tracks.length, rows: [...rows.values()].sort((a, b) => a.top - b.top) };
  });
}

for (const width of [390, 800, 1024, 1280, 1440, 1920]) {
  test(`the dashboard's grid has no holes at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto('/');
    await expect(page.getByTestId('card-summary')).toBeVisible();
    await expect(page.getByTestId('card-alerts')).toBeVisible();
    await expect(page.getByTestId('card-sign-ins')).toBeVisible();
    await expect(page.getByTestId('top-errors-table')).toBeVisible();
    const { columns, rows } = await gridRows(page);
    const holes = rows.filter((r) => r.covered !== columns);
    expect(holes, `${columns} columns; rows: ${JSON.stringify(rows, null, 1)}`).toEqual([]);
  });
}

/**
 * KiB (1 024 bytes) the browser may receive over the wire for the dashboard's first load:
 * a regression guard just above today's size, not the goal. It was 1 380 KiB (gzip) with
 * the budgets card; on 2026-12-03 Leptos' `erase_components` (.cargo/config.toml) and
 * brotli copies of the site's files made it 748 KiB (the wasm 564, ECharts 165). The goal
 * is 500 KiB (issue #18); it needs the wasm split per page.
 */
const FIRST_LOAD_LIMIT_KIB = 780;

test(`the dashboard's first load transfers at most ${FIRST_LOAD_LIMIT_KIB} KiB`, async ({ browser }) => {
  // A fresh context: nothing cached, as for a new user.
  const context = await browser.newContext({ storageState: test.info().project.use.storageState as string });
  const page = await context.newPage();
  const sizes: { url: string; bytes: number }[] = [];
  page.on('requestfinished', async (request) => {
    const s = await request.sizes();
    sizes.push({ url: new URL(request.url()).pathname, bytes: s.responseBodySize + s.responseHeadersSize });
  });
  await page.goto('/', { waitUntil: 'networkidle' });
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('#chart-requests canvas')).toBeVisible();
  await page.waitForLoadState('networkidle');
  const total = sizes.reduce((n, s) => n + s.bytes, 0);
  const table = sizes.sort((a, b) => b.bytes - a.bytes).map((s) => `${(s.bytes / 1024).toFixed(1).padStart(8)} KiB  ${s.url}`).join('\n');
  console.log(`first load of the dashboard: ${(total / 1024).toFixed(1)} KiB\n${table}`);
  expect(total / 1024, table).toBeLessThanOrEqual(FIRST_LOAD_LIMIT_KIB);
  await context.close();
});
