/**
 * kill -9 of `certfleet serve` in the middle of a heartbeat storm, certificate creates and a
 * bulk renewal (issue 12): after a restart on the same data directory (which takes over the
 * embedded PostgreSQL the killed process left), every acknowledged write is there, every
 * acknowledged audited write has its audit event, and the audit chain verifies.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertfleet, serve, type CertfleetProcess } from '../support/process.ts';
import { testEncryptionKey } from '../support/server.ts';

const adminKey = 'kill-admin-key-0123456789abcdef';
const bootstrap = 'kill-bootstrap-token-0123456789';
const durationMs = Number(process.env.CERTFLEET_FAULT_SECONDS ?? 2) * 1000;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-kill-'));
  await fs.chmod(dataDir, 0o711);
  env = {
    CERTFLEET_DATA_DIR: dataDir,
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_WORKER_THREADS: '1',
  };
});
afterAll(() => fs.rm(dataDir, { recursive: true, force: true }));

const json = { 'content-type': 'application/json' };
const admin = { authorization: `Bearer ${adminKey}`, ...json };

/** The embedded database's connection string, from the server's state directory (password file, postmaster.pid). */
async function databaseUrl(): Promise<string> {
  const password = (await fs.readFile(path.join(dataDir, 'postgres.password'), 'utf8')).trim();
  const port = (await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[3]!.trim();
  return `postgres://certfleet:${encodeURIComponent(password)}@127.0.0.1:${port}/certfleet`;
}

describe('kill -9 under write load', () => {
  it('loses no acknowledged heartbeat, certificate, renewal or audit event', async () => {
    let server: CertfleetProcess & { url: string } = await serve(env);
    const post = (url: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${server.url}${url}`, { method: 'POST', headers, body: JSON.stringify(body) });

    // A small world: inventory and 40 registered agents.
    for (const [url, body] of [
      ['/api/v1/teams', { id: 'kt', name: 'kt' }],
      ['/api/v1/owners', { id: 'ko', name: 'ko', email: 'ko@example.test', team_id: 'kt' }],
      ['/api/v1/issuers', { id: 'ki', name: 'ki', type: 'local' }],
      ['/api/v1/renewal-policies', { id: 'kp', name: 'kp' }],
    ] as const)
      expect((await post(url, body, admin)).status).toBe(201);
    const agents = await Promise.all(
      Array.from(
        { length: 40 },
        async (_, i) =>
          (await (await post('/api/v1/agents', { name: `kill-agent-${i}` }, { authorization: `Bearer ${bootstrap}`, ...json })).json()) as {
            id: string;
            api_key: string;
          },
      ),
    );
    const certificate = (name: string) => ({
      name,
      common_name: `${name}.example.test`,
      owner_id: 'ko',
      team_id: 'kt',
      issuer_id: 'ki',
      renewal_policy_id: 'kp',
    });

    const beats = new Map<string, number>();
    const created: string[] = [];
    let bulkRenewAcknowledged = false;
    let stop = false;
    const heartbeater = async (agent: { id: string; api_key: string }) => {
      while (!stop) {
        const res = await fetch(`${server.url}/api/v1/agents/${agent.id}/heartbeat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agent.api_key}`, ...json },
          body: '{}',
        }).catch(() => undefined);
        if (!res) return;
        if (res.status === 200) beats.set(agent.id, (beats.get(agent.id) ?? 0) + 1);
        await res.arrayBuffer();
      }
    };
    const creator = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `kill-${w}-${i}`;
        const res = await post('/api/v1/certificates', certificate(name), admin).catch(() => undefined);
        if (!res) return;
        if (res.status === 201) created.push(((await res.json()) as { id: string }).id);
        else await res.arrayBuffer();
      }
    };
    const load = [...agents.map(heartbeater), creator(0), creator(1)];
    await new Promise((r) => setTimeout(r, durationMs / 2));
    const bulk = post('/api/v1/certificates/bulk-renew', { owner_id: 'ko' }, admin)
      .then(async (res) => {
        bulkRenewAcknowledged = res.status === 200;
        await res.arrayBuffer();
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, durationMs / 2));
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all([...load, bulk, server.exited]);
    const acknowledgedBeats = [...beats.values()].reduce((a, b) => a + b, 0);
    expect(created.length).toBeGreaterThan(0);
    expect(acknowledgedBeats).toBeGreaterThan(0);
    const restartedAt = performance.now();

    // Restart on the same directory: it takes over the orphaned embedded PostgreSQL.
    server = await serve(env);
    console.log(
      `kill -9: ${acknowledgedBeats} heartbeats, ${created.length} certificates, bulk renew ${bulkRenewAcknowledged ? 'acknowledged' : 'in flight'} before the kill; ` +
        `serving again ${Math.round(performance.now() - restartedAt)} ms after the restart began`,
    );
    try {
      const client = new pg.Client({ connectionString: await databaseUrl() });
      await client.connect();
      try {
        const liveness = await client.query<{ agent_id: string; heartbeats: string }>(
          'SELECT agent_id, heartbeats FROM agent_liveness WHERE agent_id = ANY($1)',
          [[...beats.keys()]],
        );
        const recorded = new Map(liveness.rows.map((r) => [r.agent_id, Number(r.heartbeats)]));
        for (const [agentId, acknowledged] of beats) expect(recorded.get(agentId) ?? 0, agentId).toBeGreaterThanOrEqual(acknowledged);
        const certs = await client.query<{ id: string }>('SELECT id FROM certificates WHERE id = ANY($1)', [created]);
        expect(certs.rows.length).toBe(created.length);
        // Every acknowledged create has its event (chained, or in the outbox until the sweep).
        const events = await client.query<{ n: number }>(
          `SELECT count(DISTINCT resource_id)::int AS n FROM (
             SELECT resource_id FROM audit_events WHERE action = 'certificate_created' AND resource_id = ANY($1)
             UNION ALL SELECT resource_id FROM audit_pending WHERE action = 'certificate_created' AND resource_id = ANY($1)) e`,
          [created],
        );
        expect(events.rows[0]!.n).toBe(created.length);
        if (bulkRenewAcknowledged) {
          const jobs = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE type = 'Issuance' AND certificate_id = ANY($1)`, [created]);
          expect(jobs.rows[0]!.n).toBeGreaterThan(0);
        }
      } finally {
        await client.end();
      }
      const verify = runCertfleet(['audit', 'verify'], env);
      expect(await verify.exited, verify.stdout.join('\n')).toBe(0);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);
});
