/**
 * The ACME server while PostgreSQL restarts. Its writes go through batches shared by concurrent
 * requests (spent nonces, rate-limit steps, new-order and finalize groups), each of which must
 * fail its own callers with a 503 when the connection goes, and carry on after. A real
 * `certfleet serve` on a PostgreSQL of its own; four acme-client accounts run orders to their
 * certificate while the database stops and starts again. The server keeps running, never answers
 * 500, and every order it answered valid has its certificate stored.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as acme from 'acme-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres, findFreePort } from '../../src/db/embedded-postgres.ts';
import { eabKey, trustingProfile } from '../support/admin-api.ts';
import { seedInventory } from '../support/fixtures.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { serve, type CertfleetProcess } from '../support/process.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';
import { untilTrue } from '../support/until.ts';

const { log } = memoryLogger('warn');
const settings = { fsync: 'off', synchronous_commit: 'off' };
let rootDir: string;
let port: number;
let postgres: EmbeddedPostgres;
let server: CertfleetProcess & { url: string };
let databaseUrl: string;
const statuses = new Map<number, number>();

/** An account bound by EAB, as the trusting profile requires. */
async function boundClient(): Promise<acme.Client> {
  const eab = await eabKey(server.url, 'restart');
  const client = new acme.Client({
    directoryUrl: `${server.url}/acme/directory`,
    accountKey: await acme.crypto.createPrivateEcdsaKey(),
    externalAccountBinding: eab,
  });
  await client.createAccount({ termsOfServiceAgreed: true });
  return client;
}

beforeAll(async () => {
  rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-pg-restart-acme-'));
  await fs.chmod(rootDir, 0o711);
  port = await findFreePort();
  postgres = new EmbeddedPostgres({ rootDir, port, log, settings });
  databaseUrl = await postgres.start();
  server = await serve({
    DATABASE_URL: databaseUrl,
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_DATABASE_MAX_CONNS: '8',
    CERTFLEET_LEADER_RETRY_MS: '200',
    CERTFLEET_WORKER_THREADS: '1',
    CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR: '0',
    CERTFLEET_ACME_MAX_PENDING_ORDERS_PER_ACCOUNT: '0',
  });
  const inv = await seedInventory(databaseUrl);
  await trustingProfile(server.url, 'restart', 'restart.test', inv);
  // Every answer the clients get, through acme-client's own HTTP layer.
  acme.axios.interceptors.response.use(
    (res) => {
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      return res;
    },
    (err: { response?: { status: number } }) => {
      const status = err.response?.status ?? 0;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      throw err;
    },
  );
}, 60_000);

afterAll(async () => {
  server?.child.kill('SIGKILL');
  await postgres?.stop();
  await fs.rm(rootDir, { recursive: true, force: true });
});

describe('PostgreSQL restarting under ACME load', () => {
  it('keeps the ACME server running, never answers 500, and stores every certificate it answered valid', async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => boundClient()));
    const csrKey = await acme.crypto.createPrivateEcdsaKey(); // one key for every CSR: generating RSA keys would be the bottleneck
    const valid: string[] = [];
    let failedFlows = 0;
    let longestFlowMs = 0;
    let stop = false;
    let n = 0;
    const flows = async (client: acme.Client) => {
      const deadline = Date.now() + 25_000;
      while (!stop && Date.now() < deadline) {
        const name = `host-${n++}.restart.test`;
        const t0 = performance.now();
        try {
          const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }], profile: 'restart' } as acme.Order & { profile: string });
          const [, csr] = await acme.crypto.createCsr({ altNames: [name] }, csrKey);
          const finalized = await client.finalizeOrder(order, csr);
          if (finalized.status === 'valid') valid.push(finalized.url.split('/').pop()!);
        } catch {
          failedFlows += 1; // a 503 while the database is away; the status is counted above
        }
        longestFlowMs = Math.max(longestFlowMs, performance.now() - t0);
      }
    };
    const running = clients.map(flows);
    await new Promise((r) => setTimeout(r, 1_500)); // flows run for a while first
    const answeredBeforeStop = [...statuses.values()].reduce((a, b) => a + b, 0);
    await postgres.stop();
    // Longer than a request waits for a connection (5 s), so requests fail while it is down.
    await new Promise((r) => setTimeout(r, 8_000));
    postgres = new EmbeddedPostgres({ rootDir, port, log, settings });
    await postgres.start();
    // Orders are issued again within seconds of the database's return.
    const before = valid.length;
    await untilTrue('an order to be issued again', () => Promise.resolve(valid.length > before + 4), { timeoutMs: 20_000, intervalMs: 100 });
    stop = true;
    await Promise.all(running);
    console.log(
      `postgres restart under ACME: ${JSON.stringify(Object.fromEntries(statuses))} (${answeredBeforeStop} before the stop); ${valid.length} issued, ${failedFlows} flows failed, longest flow ${Math.round(longestFlowMs)} ms`,
    );

    expect(server.child.exitCode, server.stderr().slice(-3000)).toBeNull();
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(failedFlows).toBeGreaterThan(0);
    // A request waits a bounded time for the database, then fails: no hang.
    expect(longestFlowMs).toBeLessThan(15_000);
    // Every order answered valid has its certificate, with its issued version, in the inventory.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM acme_orders o JOIN certificates c ON c.id = o.certificate_id
           JOIN certificate_versions v ON v.id = o.version_id AND v.certificate_id = c.id
          WHERE o.id = ANY($1) AND o.status = 'valid' AND c.status = 'Active'`,
        [valid],
      );
      expect(rows[0]!.n).toBe(valid.length);
    } finally {
      await client.end();
    }
  }, 90_000);
});
