// What the end-to-end tests share: the database of this run and fixture rows.
import { Client } from 'pg';

export const ADMIN_URL = process.env.SIGHTLINE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `fn` with a connection to the database of this run. */
export async function withDb<T>(fn: (db: Client) => Promise<T>): Promise<T> {
  const url = process.env.SIGHTLINE_E2E_DATABASE_URL;
  if (!url) throw new Error('SIGHTLINE_E2E_DATABASE_URL is not set: run through playwright.config.ts');
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** Inserts `count` requests a minute ago, `errors` of them failed (status 500). */
export async function insertRequests(db: Client, prefix: string, count: number, errors: number): Promise<void> {
  const at = Date.now() - 60_000;
  for (let i = 0; i < count; i++) {
    await db.query(
      `INSERT INTO request_log (request_id, created_at, kind, endpoint, method, status_code, latency_ms,
         model_name, prompt_tokens, completion_tokens, cost_micros, is_authenticated)
       VALUES ($1, $2, 'api', '/v1/chat/completions', 'POST', $3, 150, 'gpt-4o-mini', 100, 40, 30, true)`,
      [`${prefix}-${i}`, at - i, i < errors ? 500 : 200],
    );
  }
}
