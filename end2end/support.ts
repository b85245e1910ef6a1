// What the end-to-end tests share: the database of this run, its API key, and the
// fixture, sent through Sightline's own ingest API.
export const ADMIN_URL = process.env.SIGHTLINE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

const HOUR = 3_600_000;

/** The dashboard accounts global-setup.ts creates with `sightline create-admin`. */
export const ACCOUNTS = {
  admin: { username: 'e2e-admin', password: 'e2e admin password', role: 'admin' },
  viewer: { username: 'e2e-viewer', password: 'e2e viewer password', role: 'viewer' },
} as const;

/** Where each account's signed-in browser state is kept between setup and tests. */
export const STORAGE = {
  admin: `${__dirname}/.auth/admin.json`,
  viewer: `${__dirname}/.auth/viewer.json`,
} as const;

/** `count` chat requests `hoursAgo` hours back, `errors` of them failed with a 500. */
export function requests(prefix: string, count: number, errors: number, hoursAgo = 0): object[] {
  const now = Date.now();
  const base = now - (now % HOUR) - hoursAgo * HOUR + 60_000;
  return Array.from({ length: count }, (_, i) => ({
    request_id: `${prefix}-${i}`,
    timestamp: Math.min(base + i * 1000, now),
    endpoint: '/v1/chat/completions',
    method: 'POST',
    status_code: i < errors ? 500 : 200,
    latency_ms: 100 + i * 10,
    model: 'gpt-4o',
    prompt_tokens: 1000,
    completion_tokens: 500,
    user_id: `user-${i % 3}`,
    country: ['US', 'DE', 'FR'][i % 3],
  }));
}

/** Posts a batch to the ingest API of the server under test. */
export async function ingest(batch: object): Promise<any> {
  const url = process.env.SIGHTLINE_E2E_URL;
  const key = process.env.SIGHTLINE_E2E_KEY;
  if (!url || !key) throw new Error('run through playwright.config.ts (global-setup.ts sets the server and key)');
  const reply = await fetch(`${url}/api/v1/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
  if (reply.status !== 200) throw new Error(`ingest answered ${reply.status}: ${await reply.text()}`);
  return reply.json();
}
