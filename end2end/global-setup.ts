// Creates a fresh PostgreSQL database, lets Sightline migrate it, seeds the fixture
// and starts the release server on a free port. global-teardown.ts undoes it all.
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { ADMIN_URL, databaseUrl, insertRequests, withDb } from './support';

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
  process.env.SIGHTLINE_E2E_DATABASE_URL = url;

  const migrate = spawnSync(BINARY, ['migrate'], { cwd: ROOT, env: { ...process.env, SIGHTLINE_DATABASE_URL: url }, encoding: 'utf8' });
  if (migrate.status !== 0) throw new Error(`sightline migrate failed: ${migrate.stderr}`);

  // The fixture: 12 requests in the last hour, 3 of them failed.
  await withDb((db) => insertRequests(db, 'fixture', 12, 3));

  const server = spawn(BINARY, ['serve'], {
    cwd: ROOT,
    env: { ...process.env, SIGHTLINE_DATABASE_URL: url, SIGHTLINE_ADDR: '127.0.0.1:0', SIGHTLINE_LOG: 'warn' },
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
}
