/**
 * Issue 12, findings 2 and 8: input PostgreSQL cannot store, or that breaks serialisation, is a
 * 400 at the edge on every route that takes a body, never a 5xx from the database or the audit
 * batch: lone surrogates ("\ud800"), bytes that are not UTF-8, and JSON nested 10,000 deep.
 */
import { describe, expect, it } from 'vitest';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: 'bootstrap-token-0123456789abcdef' }, inventory: false });

const post = (path: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
  world.server.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('bodies PostgreSQL cannot store', () => {
  it.each([
    ['a lone high surrogate', '{"name":"team-\\ud800"}'],
    ['a lone low surrogate', '{"name":"team-\\uDC00x"}'],
    ['a reversed pair', '{"name":"\\udc00\\ud800"}'],
    ['a lone surrogate in a key', '{"name":"ok","tags":{"\\ud800":"v"}}'],
  ])('400 for %s', async (_, body) => {
    const res = await post('/api/v1/teams', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/surrogate/);
  });

  it('accepts a proper surrogate pair (an emoji) and stores it intact', async () => {
    const res = await post('/api/v1/teams', '{"name":"team-\\ud83d\\ude00"}');
    expect(res.status).toBe(201);
    expect(((await res.json()) as { name: string }).name).toBe('team-😀');
  });

  it('400 for bytes that are not UTF-8', async () => {
    const res = await post('/api/v1/teams', new Uint8Array([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/UTF-8/);
  });

  it('400 for JSON nested 10,000 levels deep', async () => {
    const deep = `{"name":"x","tags":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    const res = await post('/api/v1/teams', deep);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/nests deeper/);
    const arrays = await post('/api/v1/teams', `[${'['.repeat(10_000)}${']'.repeat(10_001)}`);
    expect(arrays.status).toBe(400);
  });

  it('400 for a lone surrogate in an agent registration (one of the routes that poisoned the audit batch)', async () => {
    const res = await post('/api/v1/agents', '{"name":"agent-x","hostname":"h\\ud800"}', {
      authorization: 'Bearer bootstrap-token-0123456789abcdef',
    });
    expect(res.status).toBe(400);
  });

  it('60 team creates beside 5 poisoned agent registrations: 60 x 201 with 60 events, 5 x 400 (the probe saw 57 x 500 and 0 events)', async () => {
    const teams = Array.from({ length: 60 }, (_, i) => post('/api/v1/teams', JSON.stringify({ name: `concurrent-${i}` })));
    const agents = Array.from({ length: 5 }, (_, i) =>
      post('/api/v1/agents', `{"name":"poisoned-${i}","hostname":"h\\ud800"}`, { authorization: 'Bearer bootstrap-token-0123456789abcdef' }),
    );
    const [teamResults, agentResults] = await Promise.all([Promise.all(teams), Promise.all(agents)]);
    expect(teamResults.map((r) => r.status)).toEqual(Array(60).fill(201));
    expect(agentResults.map((r) => r.status)).toEqual(Array(5).fill(400));
    const events = (await (await world.server.request('/api/v1/audit?action=team_created&per_page=500')).json()) as { data: Array<{ resource_id: string }> };
    const ids = new Set(await Promise.all(teamResults.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(events.data.filter((e) => ids.has(e.resource_id))).toHaveLength(60);
  });
});
