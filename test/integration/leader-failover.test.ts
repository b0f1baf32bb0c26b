/**
 * Leader election with two real `certfleet serve` processes on one database: exactly one leads
 * (never both, sampled throughout), and after `kill -9` of the leader the other leads within two
 * retry intervals. A graceful stop hands leadership over too. A run-now request sent to the
 * follower runs the loop on the leader.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { serve, type CertfleetProcess } from '../support/process.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';
import { untilTrue } from '../support/until.ts';

const retryMs = 1000;
const auth = { authorization: `Bearer ${adminKey}` };
let db: TestDatabase;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-leader-'));
type Server = CertfleetProcess & { url: string };

const start = (name: string): Promise<Server> =>
  serve({
    DATABASE_URL: db.url,
    CERTFLEET_HOST: '127.0.0.1',
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_DATA_DIR: path.join(dir, name),
    CERTFLEET_LEADER_RETRY_MS: String(retryMs),
  });

async function leading(server: Server): Promise<boolean | undefined> {
  try {
    return ((await (await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(1000) })).json()) as { leader: boolean }).leader;
  } catch {
    return undefined; // down
  }
}

/** Samples both servers every 25 ms until `done` holds; fails if both ever lead at once. */
async function watch(servers: Server[], done: (states: Array<boolean | undefined>) => boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const states = await Promise.all(servers.map(leading));
    expect(states.filter((s) => s === true).length, 'two leaders at once').toBeLessThanOrEqual(1);
    if (done(states)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`no expected leadership after ${timeoutMs} ms: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('leader lock', () => {
  it('elects one leader, and fails over after kill -9 within two retry intervals', async () => {
    const a = await start('a');
    const b = await start('b');
    await watch([a, b], (s) => s.filter(Boolean).length === 1, 5_000);
    // Stable: still exactly one leader over several intervals.
    await expect(watch([a, b], () => false, 4 * retryMs)).rejects.toThrow(/no expected leadership/);
    const [leader, follower] = (await leading(a)) ? [a, b] : [b, a];
    const metrics = await (await fetch(`${leader.url}/metrics`)).text();
    expect(metrics).toMatch(/^certfleet_leader 1$/m);

    // Run-now sent to the follower reaches the leader (NOTIFY on its lock connection) and runs
    // there, once; job-timeouts' first scheduled tick is a minute away, so the run is ours.
    const runs = async (server: Server, name: string) => {
      const body = (await (await fetch(`${server.url}/api/v1/scheduler/loops`, { headers: auth })).json()) as {
        leader: boolean;
        data: Array<{ name: string; runs: number }>;
      };
      return body.data.find((l) => l.name === name)!.runs;
    };
    expect(await runs(leader, 'job-timeouts')).toBe(0);
    const requested = await fetch(`${follower.url}/api/v1/scheduler/loops/job-timeouts/run`, { method: 'POST', headers: auth });
    expect(requested.status).toBe(202);
    expect(await requested.json()).toEqual({ loop: 'job-timeouts', requested: true });
    await untilTrue('the leader to run job-timeouts', async () => (await runs(leader, 'job-timeouts')) > 0, { timeoutMs: 5_000 });
    expect(await runs(leader, 'job-timeouts')).toBe(1);
    expect(await runs(follower, 'job-timeouts')).toBe(0);
    expect((await fetch(`${follower.url}/api/v1/scheduler/loops/nope/run`, { method: 'POST', headers: auth })).status).toBe(404);

    leader.child.kill('SIGKILL');
    await leader.exited;
    const failover = await watch([follower], (s) => s[0] === true, 10_000);
    expect(failover).toBeLessThan(2 * retryMs + 500); // + sampling and process scheduling under a parallel test run

    // A graceful stop releases the lock at once: a new replica takes over.
    const c = await start('c');
    await watch([follower, c], (s) => s[0] === true && s[1] === false, 5_000);
    follower.child.kill('SIGTERM');
    expect(await follower.exited).toBe(0);
    await watch([c], (s) => s[0] === true, 2 * retryMs + 500);
    c.child.kill('SIGTERM');
    await c.exited;
  }, 60_000);
});
