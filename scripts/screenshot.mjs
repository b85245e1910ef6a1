// Takes the README's screenshots (the dashboard, endpoints, security, providers, and the dashboard on a phone): a fresh SQLite database seeded by
// `serve --demo`, signed in with the admin password it prints, in Debian's Chromium.
// Run from the repository root after `make build`: node scripts/screenshot.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const dir = mkdtempSync(join(tmpdir(), 'sightline-shot-'));
const server = spawn('target/release/sightline', ['serve', '--demo'], {
  env: { ...process.env, SIGHTLINE_DATABASE_URL: `sqlite://${dir}/sightline.db`, SIGHTLINE_ADDR: '127.0.0.1:0', SIGHTLINE_LOG: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const printed = { url: null, password: null };
const ready = new Promise((resolve, reject) => {
  let buffered = '';
  server.stdout.on('data', (chunk) => {
    buffered += chunk.toString();
    printed.url ??= buffered.match(/Sightline listening on (http:\/\/\S+)/)?.[1] ?? null;
    printed.password ??= buffered.match(/as admin with the password (\S+)/)?.[1] ?? null;
    if (printed.url && printed.password) resolve();
  });
  server.on('exit', (code) => reject(new Error(`sightline exited with ${code}`)));
});

try {
  await ready;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1200 }, colorScheme: 'light' });
  await page.goto(`${printed.url}/login`);
  await page.locator('body[data-hydrated]').waitFor();
  await page.getByTestId('login-username').fill('admin');
  await page.getByTestId('login-password').fill(printed.password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(`${printed.url}/`);
  await page.locator('body[data-hydrated]').waitFor();
  await page.locator('#chart-costs canvas').waitFor();
  await page.waitForTimeout(1500); // let the charts' entry animation finish
  await page.screenshot({ path: 'docs/dashboard.png', fullPage: true });
  for (const [path, ready, file] of [
    ['/endpoints', '#chart-endpoint canvas', 'docs/endpoints.png'],
    ['/security', '#chart-auth-events canvas', 'docs/security.png'],
    ['/providers', '#chart-provider-costs canvas', 'docs/providers.png'],
  ]) {
    await page.goto(`${printed.url}${path}`);
    await page.locator('body[data-hydrated]').waitFor();
    await page.locator(ready).waitFor();
    await page.waitForTimeout(1500);
    await page.screenshot({ path: file, fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${printed.url}/`);
  await page.locator('body[data-hydrated]').waitFor();
  await page.locator('#chart-requests canvas').waitFor();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: 'docs/dashboard-phone.png' });
  await browser.close();
  console.log('wrote docs/dashboard.png, endpoints.png, security.png, providers.png, dashboard-phone.png');
} finally {
  server.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
