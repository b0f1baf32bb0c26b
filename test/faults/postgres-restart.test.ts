/**
 * Finding 1 of the fault probe: PostgreSQL terminating every connection (fast shutdown, 57P01)
 * while requests write must not kill the server. A real `certfleet serve` runs on a PostgreSQL
 * of its own; four writers create teams while the database stops and starts again. The server
 * keeps running, answers 503 (never 500) while the database is away, and serves writes after.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgres, findFreePort } from '../../src/db/embedded-postgres.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { runCertfleet, serve, type CertfleetProcess } from '../support/process.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';
import { until, untilTrue } from '../support/until.ts';

const { log } = memoryLogger('warn');
const settings = { fsync: 'off', synchronous_commit: 'off' };
let rootDir: string;
let port: number;
let postgres: EmbeddedPostgres;
let server: CertfleetProcess & { url: string };
let databaseUrl: string;

beforeAll(async () => {
  rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-pg-restart-'));
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
  });
});

afterAll(async () => {
  server?.child.kill('SIGKILL');
  await postgres?.stop();
  await fs.rm(rootDir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };

describe('PostgreSQL restarting under write load', () => {
  it('keeps the server running, answers 503 while down, and recovers', async () => {
    const statuses = new Map<number, number>();
    const acknowledged: string[] = [];
    let stop = false;
    let n = 0;
    const writer = async (w: number) => {
      const deadline = Date.now() + 20_000;
      while (!stop && Date.now() < deadline) {
        const name = `team-${w}-${n++}`;
        const res = await fetch(`${server.url}/api/v1/teams`, { method: 'POST', headers: auth, body: JSON.stringify({ name }) }).catch(() => undefined);
        if (!res) continue;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 201) acknowledged.push(name);
        await res.arrayBuffer();
        if (res.status === 503) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      }
    };
    // Readers beside the writers: lists and single reads must also degrade to 503, never 500.
    const reader = async () => {
      const deadline = Date.now() + 20_000;
      while (!stop && Date.now() < deadline) {
        const res = await fetch(`${server.url}/api/v1/teams?per_page=5`, { headers: auth }).catch(() => undefined);
        if (!res) continue;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        await res.arrayBuffer();
      }
    };
    const writers = [0, 1, 2, 3].map(writer).concat([reader(), reader()]);
    const downAt = { ms: 0 };
    await new Promise((r) => setTimeout(r, 700)); // the write load runs for a while first
    await postgres.stop();
    // Caches say they are no longer kept coherent by the change feed (and /health still answers).
    await untilTrue(
      '/health to say the caches are degraded',
      async () => ((await (await fetch(`${server.url}/health`)).json()) as { caches: string }).caches === 'degraded',
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    postgres = new EmbeddedPostgres({ rootDir, port, log, settings });
    await postgres.start();
    downAt.ms = performance.now();
    // Writes succeed again within a few seconds of the database's return.
    let attempt = 0;
    const recovered = await untilTrue(
      'a write to succeed again',
      async () => {
        attempt += 1;
        const body = JSON.stringify({ name: `after-${attempt}` });
        const res = await fetch(`${server.url}/api/v1/teams`, { method: 'POST', headers: auth, body }).catch(() => undefined);
        return res?.status === 201;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    ).then(
      () => true,
      () => false,
    );
    const recoveryMs = Math.round(performance.now() - downAt.ms);
    stop = true;
    await Promise.all(writers);
    console.log(`postgres restart: ${JSON.stringify(Object.fromEntries(statuses))}; writes succeeded again ${recoveryMs} ms after PostgreSQL was back`);
    expect(server.child.exitCode, server.stderr().slice(-3000)).toBeNull();
    expect(recovered).toBe(true);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(statuses.get(201) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);

    // Every acknowledged write is there.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>('SELECT id FROM teams WHERE name = ANY($1)', [acknowledged]);
      expect(rows.length).toBe(acknowledged.length);
      // ... with its audit event: chained, or committed in the outbox for the next sweep.
      const events = await client.query<{ n: number }>(
        `SELECT count(DISTINCT resource_id)::int AS n FROM (
           SELECT resource_id FROM audit_events WHERE action = 'team_created' AND resource_id = ANY($1)
           UNION ALL SELECT resource_id FROM audit_pending WHERE action = 'team_created' AND resource_id = ANY($1)) e`,
        [rows.map((r) => r.id)],
      );
      expect(events.rows[0]!.n).toBe(acknowledged.length);
    } finally {
      await client.end();
    }
    // The leader lock's dedicated connection came back too: this replica leads again.
    // So did the change feed's: caches are coherent again.
    const health = await until(
      'this replica to lead again with coherent caches',
      async () => {
        const h = (await (await fetch(`${server.url}/health`)).json()) as { leader: boolean; caches: string };
        return h.leader && h.caches === 'coherent' ? h : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(health).toMatchObject({ leader: true, caches: 'coherent' });
    // The chain sweep picks up anything a failed pass left, and the chain verifies.
    const verify = runCertfleet(['audit', 'verify'], { DATABASE_URL: databaseUrl });
    expect(await verify.exited, verify.stdout.join('\n')).toBe(0);
  });
});
