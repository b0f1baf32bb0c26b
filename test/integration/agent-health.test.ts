/**
 * The agent-health loop, wired into a real server (interval 1 s): an agent whose last
 * heartbeat is older than CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS becomes Offline (audited), a fresh one
 * stays Online, and a new heartbeat brings the stale one back.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';
import { useTestWorld } from '../support/world.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';

const world = useTestWorld({
  env: {
    CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
    CERTFLEET_AGENT_HEALTH_INTERVAL_SECONDS: '1',
    CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS: '60',
  },
  inventory: false,
});

async function registerAndBeat(name: string) {
  const agent = (await (
    await fetch(`${world.server.url}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    })
  ).json()) as { id: string; api_key: string };
  const beat = () =>
    fetch(`${world.server.url}/api/v1/agents/${agent.id}/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${agent.api_key}` } });
  expect((await beat()).status).toBe(200);
  return { ...agent, beat };
}

const status = async (id: string) => ((await (await world.server.request(`/api/v1/agents/${id}`)).json()) as { status: string }).status;

describe('agent health', () => {
  it('marks silent agents Offline and leaves live ones Online', async () => {
    const stale = await registerAndBeat('stale-agent');
    const fresh = await registerAndBeat('fresh-agent');
    expect(await status(stale.id)).toBe('Online');
    await world.sql.query("UPDATE agent_liveness SET last_heartbeat_at = now() - interval '2 minutes' WHERE agent_id = $1", [stale.id]);
    const now = await until(
      'the stale agent to leave Online',
      async () => {
        const current = await status(stale.id);
        return current === 'Online' ? undefined : current;
      },
      { timeoutMs: 4_000 },
    );
    expect(now).toBe('Offline');
    expect(await status(fresh.id)).toBe('Online');
    const audit = (await (await world.server.request(`/api/v1/audit?action=agent_offline&resource_id=${stale.id}`)).json()) as { total: number };
    expect(audit.total).toBe(1);
    expect((await stale.beat()).status).toBe(200);
    expect(await status(stale.id)).toBe('Online');
  });

  it("does not wait for a liveness row another replica's batch holds: defers the heartbeat, and the loop folds it in", async () => {
    const agent = await registerAndBeat('contended-agent');
    const liveness = async () =>
      (
        await world.sql.query<{ n: string; deferred: string }>(
          `SELECT (SELECT heartbeats FROM agent_liveness WHERE agent_id = $1) AS n,
                (SELECT coalesce(sum(heartbeats), 0) FROM heartbeat_deferred WHERE agent_id = $1) AS deferred`,
          [agent.id],
        )
      ).rows[0]!;
    // Another replica's batch: it has locked the row and not committed yet.
    const other = new pg.Client({ connectionString: world.server.db.url });
    await other.connect();
    await other.query('BEGIN');
    await other.query('SELECT 1 FROM agent_liveness WHERE agent_id = $1 FOR NO KEY UPDATE', [agent.id]);
    try {
      const started = performance.now();
      const beats = await Promise.all([agent.beat(), agent.beat(), agent.beat()]);
      expect(beats.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(performance.now() - started).toBeLessThan(2_000); // it used to wait for the other commit
      expect(Number((await liveness()).deferred)).toBe(3);
      const metrics = await (await fetch(`${world.server.url}/metrics`)).text();
      expect(Number(/^certfleet_heartbeats_deferred_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    // The health loop (every second here) counts deferred heartbeats into agent_liveness.
    const after = await until(
      'the deferred heartbeats to be counted',
      async () => {
        const now = await liveness();
        return Number(now.deferred) > 0 ? undefined : now;
      },
      { timeoutMs: 5_000 },
    );
    expect(after).toEqual({ n: '4', deferred: '0' }); // the first beat, then the three deferred
  });
});
