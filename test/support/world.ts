/**
 * The world most integration files test against: a real server (startApp) on a fresh database,
 * one seeded inventory, and an SQL client of that database. useTestWorld() registers the hooks
 * that build it before the file's tests and tear it down after them (the file's own hooks run
 * inside: its beforeAll after the world exists, its afterAll before the world goes).
 *
 *   const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: token } });
 *   it('...', async () => { await world.server.request('/api/v1/certificates'); });
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { seedInventory, type Inventory } from './fixtures.ts';
import { startTestServer, type TestServer } from './server.ts';

export interface TestWorld {
  readonly server: TestServer;
  /** The seeded inventory (teams, owner, issuer, policy, profile, agent, target). */
  readonly inv: Inventory;
  /** A connected client of the server's database, for checking what was stored. */
  readonly sql: pg.Client;
}

export interface TestWorldOptions {
  /** Extra server environment (CERTFLEET_*). */
  env?: Record<string, string>;
  /** Seed an inventory (default true); files that count rows of an empty database say false. */
  inventory?: boolean;
}

export function useTestWorld(options: TestWorldOptions = {}): TestWorld {
  let server: TestServer | undefined;
  let inv: Inventory | undefined;
  let sql: pg.Client | undefined;
  beforeAll(async () => {
    server = await startTestServer(options.env);
    if (options.inventory ?? true) inv = await seedInventory(server.db.url);
    sql = new pg.Client({ connectionString: server.db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
  });
  const ready = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`world.${name} is used before the world's beforeAll ran, or was not asked for`);
    return value;
  };
  return {
    get server() {
      return ready(server, 'server');
    },
    get inv() {
      return ready(inv, 'inv');
    },
    get sql() {
      return ready(sql, 'sql');
    },
  };
}
