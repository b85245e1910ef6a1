import { defineConfig } from '@playwright/test';
import { STORAGE } from './support';

// Debian's Chromium (Playwright cannot download its own browsers here). The server is
// the release build, started by global-setup.ts on a fresh PostgreSQL database.
export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  globalSetup: './global-setup.ts',
  globalTeardown: './global-teardown.ts',
  use: {
    baseURL: process.env.SIGHTLINE_E2E_URL,
    // Signed in as the admin unless a test says otherwise (global-setup.ts signs in).
    storageState: STORAGE.admin,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
