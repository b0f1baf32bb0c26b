/**
 * Fleet basics over HTTP: registration with the bootstrap token, keys bound to one agent,
 * heartbeats acknowledged only after they are durable (a flood checks every acknowledged
 * heartbeat against the database and that they were group-committed), transitions and
 * metadata changes audited, retirement answering 410.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';
import { startTestServer } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';

const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap }, inventory: false });

interface Registered {
  id: string;
  api_key: string;
  status: string;
}

async function register(name: string, token = bootstrap, extra: Record<string, unknown> = {}) {
  return fetch(`${world.server.url}/api/v1/agents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, hostname: `${name}.example.test`, ...extra }),
  });
}

const beat = (agentId: string, key: string, body?: unknown) =>
  fetch(`${world.server.url}/api/v1/agents/${agentId}/heartbeat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe('agent registration', () => {
  it('needs the bootstrap token, returns a key once, stores only its hash', async () => {
    expect((await register('no-token', 'wrong-token-0123456789abcdef')).status).toBe(401);
    const res = await register('web-01', bootstrap, { os: 'linux', architecture: 'amd64', ip_address: '10.0.0.1', version: '1.0.0' });
    expect(res.status).toBe(201);
    const agent = (await res.json()) as Registered & Record<string, unknown>;
    expect(agent).toMatchObject({ name: 'web-01', hostname: 'web-01.example.test', status: 'Offline', os: 'linux' });
    expect(agent.api_key).toMatch(/^cfk_/);
    const { rows } = await world.sql.query('SELECT role, agent_id, key_hash FROM api_keys WHERE agent_id = $1', [agent.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ role: 'agent', agent_id: agent.id });
    expect(rows[0].key_hash).not.toContain(agent.api_key);
    expect((await register('web-01')).status).toBe(409);
    expect((await register('bad name!')).status).toBe(400);
  });

  it('checks the bootstrap token before the body: no token and a bad body is 401, not 400 (issue 12)', async () => {
    const res = await world.server.request('/api/v1/agents', {
      method: 'POST',
      auth: null,
      headers: { 'content-type': 'application/json' },
      body: '{"name":"bad name!"}',
    });
    expect(res.status).toBe(401);
    expect((await register('bad name!', 'wrong-token-0123456789abcdef')).status).toBe(401);
  });

  it('refuses registration when no bootstrap token is configured', async () => {
    const other = await startTestServer();
    try {
      const res = await fetch(`${other.url}/api/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x' }),
      });
      expect(res.status).toBe(403);
    } finally {
      await other.close();
    }
  });
});

describe('heartbeats', () => {
  let a: Registered;
  let b: Registered;
  beforeAll(async () => {
    a = (await (await register('hb-a')).json()) as Registered;
    b = (await (await register('hb-b')).json()) as Registered;
  });

  it('records a heartbeat, brings the agent Online once, and audits metadata changes', async () => {
    expect((await beat(a.id, a.api_key)).status).toBe(200);
    const liveness = await world.sql.query('SELECT last_heartbeat_at, heartbeats::int FROM agent_liveness WHERE agent_id = $1', [a.id]);
    expect(liveness.rows[0].heartbeats).toBe(1);
    expect(liveness.rows[0].last_heartbeat_at).toBeInstanceOf(Date);
    expect((await beat(a.id, a.api_key, { version: '2.0.0' })).status).toBe(200);
    expect((await beat(a.id, a.api_key, { version: '2.0.0' })).status).toBe(200);
    const agent = (await (await world.server.request(`/api/v1/agents/${a.id}`)).json()) as { status: string; version: string; last_heartbeat_at: string };
    expect(agent).toMatchObject({ status: 'Online', version: '2.0.0' });
    // The audit of transitions is written after the batch.
    const online = await until('the agent_online audit event', async () => {
      const page = (await (await world.server.request(`/api/v1/audit?resource_id=${a.id}&action=agent_online`)).json()) as { total: number };
      return page.total > 0 ? page : undefined;
    });
    const changed = (await (await world.server.request(`/api/v1/audit?resource_id=${a.id}&action=agent_metadata_changed`)).json()) as { total: number };
    expect(online.total).toBe(1);
    expect(changed.total).toBe(1);
    expect((await beat(a.id, a.api_key, { ip_address: 'not-an-ip' })).status).toBe(400);
  });

  it('lets a key act only for its own agent', async () => {
    const res = await beat(a.id, b.api_key);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/acts only for agent/);
    expect((await beat(a.id, 'test-admin-key-0123456789abcdef')).status).toBe(403);
    expect((await fetch(`${world.server.url}/api/v1/auth/keys`, { headers: { authorization: `Bearer ${a.api_key}` } })).status).toBe(403);
  });

  it('acknowledges every heartbeat of a flood only once durable, in group-committed batches', async () => {
    const agents = await Promise.all(Array.from({ length: 40 }, async (_, i) => (await (await register(`flood-${i}`)).json()) as Registered));
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${world.server.url}/metrics`)).text())?.[1] ?? 0);
    const batchesBefore = await metric('certfleet_heartbeat_batches_total');
    let acknowledged = 0;
    // Bounded: 40 agents x 25 heartbeats, 40 concurrent senders.
    await Promise.all(
      agents.map(async (agent) => {
        for (let i = 0; i < 25; i++) {
          const res = await beat(agent.id, agent.api_key);
          if (res.status === 200) acknowledged++;
          else throw new Error(`heartbeat answered ${res.status}`);
        }
      }),
    );
    const { rows } = await world.sql.query('SELECT sum(heartbeats)::int AS n FROM agent_liveness WHERE agent_id = ANY($1)', [agents.map((x) => x.id)]);
    expect(acknowledged).toBe(1000);
    expect(rows[0].n).toBe(acknowledged);
    const batches = (await metric('certfleet_heartbeat_batches_total')) - batchesBefore;
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(acknowledged); // many heartbeats per transaction
  });

  it('answers 410 after the agent is retired', async () => {
    const c = (await (await register('to-retire')).json()) as Registered;
    expect((await beat(c.id, c.api_key)).status).toBe(200);
    const retired = await world.server.request(`/api/v1/agents/${c.id}?reason=decommissioned`, { method: 'DELETE' });
    expect(retired.status).toBe(200);
    expect(((await retired.json()) as { retired_reason: string }).retired_reason).toBe('decommissioned');
    const gone = await beat(c.id, c.api_key);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { code: string }).code).toBe('CF_ERR_GONE');
  });
});

describe('agent list', () => {
  it('walks every live agent once with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 50; i++) {
      const page = (await (await world.server.request(`/api/v1/agents?per_page=7${cursor ? `&cursor=${cursor}` : ''}`)).json()) as {
        data: Array<{ id: string; retired_at: string | null }>;
        next_cursor?: string;
      };
      seen.push(...page.data.map((x) => x.id));
      if (!page.next_cursor) break;
      cursor = page.next_cursor;
    }
    const { rows } = await world.sql.query('SELECT id FROM agents WHERE retired_at IS NULL ORDER BY id');
    expect(seen).toEqual(rows.map((r: { id: string }) => r.id));
  });
});
