/**
 * The agent-health loop, wired into a real server (interval 1 s): an agent whose last
 * heartbeat is older than CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS becomes Offline (audited), a fresh one
 * stays Online, and a new heartbeat brings the stale one back.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';
let server: TestServer;
let db: pg.Client;

beforeAll(async () => {
  server = await startTestServer({
    CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
    CERTFLEET_AGENT_HEALTH_INTERVAL_SECONDS: '1',
    CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS: '60',
  });
  db = new pg.Client({ connectionString: server.db.url });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await server.close();
});

async function registerAndBeat(name: string) {
  const agent = (await (
    await fetch(`${server.url}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    })
  ).json()) as { id: string; api_key: string };
  const beat = () => fetch(`${server.url}/api/v1/agents/${agent.id}/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${agent.api_key}` } });
  expect((await beat()).status).toBe(200);
  return { ...agent, beat };
}

const status = async (id: string) => ((await (await server.request(`/api/v1/agents/${id}`)).json()) as { status: string }).status;

describe('agent health', () => {
  it('marks silent agents Offline and leaves live ones Online', async () => {
    const stale = await registerAndBeat('stale-agent');
    const fresh = await registerAndBeat('fresh-agent');
    expect(await status(stale.id)).toBe('Online');
    await db.query("UPDATE agent_liveness SET last_heartbeat_at = now() - interval '2 minutes' WHERE agent_id = $1", [stale.id]);
    let now = 'Online';
    for (let i = 0; i < 40 && now === 'Online'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await status(stale.id);
    }
    expect(now).toBe('Offline');
    expect(await status(fresh.id)).toBe('Online');
    const audit = (await (await server.request(`/api/v1/audit?action=agent_offline&resource_id=${stale.id}`)).json()) as { total: number };
    expect(audit.total).toBe(1);
    expect((await stale.beat()).status).toBe(200);
    expect(await status(stale.id)).toBe('Online');
  });
});
