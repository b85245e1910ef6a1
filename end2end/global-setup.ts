// Creates a fresh PostgreSQL database, lets Sightline migrate it, makes an API key,
// starts the release server on a free port and ingests the fixture through the API.
// global-teardown.ts undoes it all.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from '@playwright/test';
import { Client } from 'pg';
import { ACCOUNTS, ADMIN_URL, STORAGE, databaseUrl, ingest, requests } from './support';

const ROOT = path.resolve(__dirname, '..');
const BINARY = path.join(ROOT, 'target', 'release', 'sightline');

export default async function globalSetup(): Promise<void> {
  const name = `sightline_e2e_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = databaseUrl(name);
  process.env.SIGHTLINE_E2E_DATABASE_NAME = name;
  const env = { ...process.env, SIGHTLINE_DATABASE_URL: url };

  const key = spawnSync(BINARY, ['api-key', 'create', '--name', 'e2e', '--scopes', 'ingest,read'], { cwd: ROOT, env, encoding: 'utf8' });
  if (key.status !== 0) throw new Error(`sightline api-key create failed: ${key.stderr}`);
  process.env.SIGHTLINE_E2E_KEY = key.stdout.trim().split('\n').pop();

  // Dashboard accounts, made the way an operator would: the CLI, password on stdin.
  for (const account of Object.values(ACCOUNTS)) {
    const made = spawnSync(
      BINARY,
      ['create-admin', '--username', account.username, '--password-stdin', '--role', account.role],
      { cwd: ROOT, env, encoding: 'utf8', input: `${account.password}\n` },
    );
    if (made.status !== 0) throw new Error(`sightline create-admin failed: ${made.stderr}`);
  }

  const server = spawn(BINARY, ['serve'], {
    cwd: ROOT,
    // 127.0.0.1 counts as a reverse proxy, so a test that must sign in after
    // login.spec.ts has locked sign-in from 127.0.0.1 can do so as another client
    // address (X-Forwarded-For). Requests without the header are from 127.0.0.1.
    env: { ...env, SIGHTLINE_ADDR: '127.0.0.1:0', SIGHTLINE_LOG: 'warn', SIGHTLINE_TRUSTED_PROXIES: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.env.SIGHTLINE_E2E_PID = String(server.pid);
  process.env.SIGHTLINE_E2E_URL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sightline did not start within 30 s')), 30_000);
    let buffered = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = buffered.match(/Sightline listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`sightline exited with ${code}`)));
  });
  server.unref();
  (server.stdout as any).unref?.();

  // Sign each account in once; the tests reuse the sessions (storage states).
  fs.mkdirSync(path.dirname(STORAGE.admin), { recursive: true });
  for (const [name, account] of Object.entries(ACCOUNTS)) {
    const baseURL = process.env.SIGHTLINE_E2E_URL;
    const context = await request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL! } });
    const reply = await context.post('/api/ui/login', {
      form: { username: account.username, password: account.password, next: '/' },
      maxRedirects: 0,
    });
    if (reply.status() >= 400) throw new Error(`signing ${account.username} in failed: ${reply.status()}`);
    await context.storageState({ path: STORAGE[name as keyof typeof STORAGE] });
    await context.dispose();
  }

  // The fixture: 12 requests in the current hour (3 failed), 1 three days ago,
  // two ratings and an open high-severity threat.
  await ingest({
    requests: [...requests('fixture', 12, 3), ...requests('older', 1, 0, 72)],
    feedback: [
      { request_id: 'fixture-5', user_id: 'user-2', rating: 5 },
      { request_id: 'fixture-6', user_id: 'user-0', rating: 4 },
    ],
    threats: [{ threat_type: 'xss', severity: 'high', ip: '198.51.100.7', description: '<img src=x onerror=alert(1)>' }],
  });
}
