// Stops the server and drops the database global-setup.ts created.
import { Client } from 'pg';
import { ADMIN_URL } from './support';

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.SIGHTLINE_E2E_PID);
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const name = process.env.SIGHTLINE_E2E_DATABASE_NAME;
  if (name) {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
