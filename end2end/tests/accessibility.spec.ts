// axe-core's WCAG 2.1 A and AA rules on every page, signed in, in the light and the
// dark theme. axe is injected by the test (with the page's CSP bypassed: it is a
// test-only script, the product's pages never load it).
import { expect, Page, test } from '@playwright/test';

const AXE = require.resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

test.use({ bypassCSP: true, viewport: { width: 1440, height: 900 } });

type Violation = {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: string[]; failureSummary?: string }[];
};

/** Runs axe on the page as it is and returns its WCAG 2.1 A/AA violations. */
async function violations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async (tags) => {
    const result = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n: any) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  }, TAGS);
}

/** One paragraph a violation: the rule, how many elements, and the first few of them. */
function readable(found: Violation[]): string {
  return found
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 8)
        .map((n) => `    ${n.target.join(' ')}\n      ${(n.failureSummary ?? '').replace(/\n/g, '\n      ')}`)
        .join('\n');
      const more = v.nodes.length > 8 ? `\n    … and ${v.nodes.length - 8} more` : '';
      return `${v.id} (${v.impact}, ${v.nodes.length} elements): ${v.help}\n  ${v.helpUrl}\n${nodes}${more}`;
    })
    .join('\n\n');
}

async function check(page: Page, path: string, scheme: 'light' | 'dark', ready: (page: Page) => Promise<void>) {
  await page.emulateMedia({ colorScheme: scheme });
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await ready(page);
  const found = await violations(page);
  const elements = found.reduce((n, v) => n + v.nodes.length, 0);
  console.log(`axe ${scheme} ${path}: ${found.length} rules, ${elements} elements`);
  expect(found, `axe-core found WCAG 2.1 A/AA violations on ${path} (${scheme}):\n\n${readable(found)}\n`).toEqual([]);
}

const nothing = async () => {};
const SIGNED_IN: [string, (page: Page) => Promise<void>][] = [
  ['/', async (page) => {
    await expect(page.getByTestId('card-summary')).toBeVisible();
    await expect(page.getByTestId('updated')).toHaveText(/Updated/);
  }],
  ['/requests', async (page) => { await expect(page.getByTestId('request-row').first()).toBeVisible(); }],
  ['/requests/fixture-5', async (page) => { await expect(page.getByTestId('rating-form')).toBeVisible(); }],
  ['/sessions', nothing],
  ['/users', nothing],
  ['/users/user-0', nothing],
  ['/threats?state=all', async (page) => { await expect(page.getByTestId('threat-row').first()).toBeVisible(); }],
  ['/settings', async (page) => { await expect(page.getByTestId('settings').locator('section').first()).toBeVisible(); }],
  ['/errors', async (page) => { await expect(page.getByTestId('errors-table')).toBeVisible(); }],
  ['/providers', async (page) => { await expect(page.getByTestId('providers-table').or(page.getByTestId('providers-empty'))).toBeVisible(); }],
];

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`${scheme} theme`, () => {
    test.describe('signed out', () => {
      test.use({ storageState: { cookies: [], origins: [] } });
      test(`/login passes axe (${scheme})`, async ({ page }) => {
        await check(page, '/login', scheme, async (p) => { await expect(p.getByTestId('login-form')).toBeVisible(); });
      });
    });
    for (const [path, ready] of SIGNED_IN) {
      test(`${path} passes axe (${scheme})`, async ({ page }) => {
        await check(page, path, scheme, ready);
      });
    }
  });
}
