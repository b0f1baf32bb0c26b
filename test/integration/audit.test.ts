/**
 * The audit log over HTTP and in the database: one event per mutation with its actor,
 * filters and keyset paging, NDJSON export, append-only enforcement, a chain that stays whole
 * under concurrent writers, and `certfleet audit verify` naming the first tampered event.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCertfleet } from '../support/process.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ inventory: false });

const post = (path: string, body: unknown) =>
  world.server.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Event {
  id: string;
  seq: number;
  actor: string;
  actor_type: string;
  action: string;
  resource_type: string;
  resource_id: string;
  category: string;
  details: Record<string, unknown>;
}

async function events(query: string) {
  const res = await world.server.request(`/api/v1/audit?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { data: Event[]; total: number; next_cursor?: string };
}

async function verify(...args: string[]): Promise<{ code: number; out: string }> {
  const proc = runCertfleet(['audit', 'verify', ...args], { DATABASE_URL: world.server.db.url });
  const code = await proc.exited;
  return { code, out: proc.stdout.join('\n') };
}

describe('audit events', () => {
  it('records each mutation with its actor, and serves it by id', async () => {
    const team = (await (await post('/api/v1/teams', { name: 'Audited team' })).json()) as { id: string };
    await world.server.request(`/api/v1/teams/${team.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"description":"x"}' });
    await world.server.request(`/api/v1/teams/${team.id}`, { method: 'DELETE' });
    const { data, total } = await events(`resource_type=team&resource_id=${team.id}`);
    expect(total).toBe(3);
    expect(data.map((e) => e.action)).toEqual(['team_deleted', 'team_updated', 'team_created']);
    const keyId = ((await (await world.server.request('/api/v1/auth/keys')).json()) as { data: Array<{ id: string; name: string }> }).data.find(
      (k) => k.name === 'bootstrap-admin',
    )!.id;
    expect(data[2]).toMatchObject({ actor: keyId, actor_type: 'APIKey', category: 'config', details: { actor_name: 'bootstrap-admin' } });
    expect(data[1]!.details.fields).toEqual(['description']);
    const one = await world.server.request(`/api/v1/audit/${data[0]!.id}`);
    expect(((await one.json()) as Event).action).toBe('team_deleted');
    expect((await world.server.request('/api/v1/audit/audit-missing')).status).toBe(404);
  });

  it('filters by category, action, actor and time, and pages newest first with a cursor', async () => {
    for (let i = 0; i < 5; i++) await post('/api/v1/auth/keys', { name: `audit-key-${i}`, role: 'viewer' });
    const auth = await events('category=auth&action=api_key_created&per_page=2');
    expect(auth.total).toBeGreaterThanOrEqual(5);
    const seen: Event[] = [...auth.data];
    let cursor = auth.next_cursor;
    while (cursor) {
      const page = await events(`category=auth&action=api_key_created&per_page=2&cursor=${cursor}`);
      seen.push(...page.data);
      cursor = page.next_cursor;
    }
    expect(seen.length).toBe(auth.total);
    expect(seen.map((e) => e.seq)).toEqual([...seen.map((e) => e.seq)].sort((a, b) => b - a));
    expect(seen.every((e) => e.category === 'auth' && e.action === 'api_key_created')).toBe(true);
    expect((await events(`actor=${seen[0]!.actor}&per_page=500`)).data.every((e) => e.actor === seen[0]!.actor)).toBe(true);
    expect((await events('since=2999-01-01T00:00:00Z')).total).toBe(0);
    expect((await events('until=2000-01-01T00:00:00Z')).total).toBe(0);
    for (const q of ['category=nope', 'since=yesterday', 'since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'cursor=garbage', 'color=red']) {
      expect((await world.server.request(`/api/v1/audit?${q}`)).status, q).toBe(400);
    }
  });

  it('exports NDJSON matching the filters', async () => {
    const res = await world.server.request('/api/v1/audit/export?category=auth');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    const all = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Event);
    // The last line says the export is complete and how many events it holds.
    const trailer = all.pop() as unknown as { complete: boolean; events: number };
    expect(trailer).toEqual({ complete: true, events: all.length });
    const lines = all;
    const { total } = await events('category=auth');
    // The export itself is audited after it streams, so the count may have grown by one.
    expect(lines.length).toBeGreaterThanOrEqual(total - 1);
    expect(lines.every((e) => e.category === 'auth')).toBe(true);
    expect(lines.map((e) => e.seq)).toEqual([...lines.map((e) => e.seq)].sort((a, b) => a - b));
    // Exported lines are exactly the API's representation of each event.
    for (const line of lines.slice(0, 20)) {
      expect(line).toEqual(await (await world.server.request(`/api/v1/audit/${line.id}`)).json());
    }
    expect((await events('action=audit_exported')).total).toBeGreaterThanOrEqual(1);
  });

  it('acknowledges a write without waiting for the chain; a read of the log waits for it and sees the event', async () => {
    // Another chainer (a replica) holds the chain head.
    await world.sql.query('BEGIN');
    await world.sql.query('SELECT 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE');
    let read: Promise<Response> | undefined;
    try {
      const res = await post('/api/v1/teams', { name: 'while the chain head is held' });
      expect(res.status).toBe(201); // committed with its event in the outbox; the chain can wait
      const team = (await res.json()) as { id: string };
      read = world.server.request(`/api/v1/audit?resource_id=${team.id}`);
      const early = await Promise.race([read.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
      expect(early).toBe('waiting'); // the log is not read while its newest events are unchained
    } finally {
      await world.sql.query('COMMIT');
    }
    const events = (await (await read).json()) as { total: number; data: Event[] };
    expect(events.total).toBe(1);
    expect(events.data[0]).toMatchObject({ action: 'team_created' });
  });

  it('keeps one unbroken chain under concurrent writers', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => post('/api/v1/teams', { name: `concurrent-${i}` })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const { rows } = await world.sql.query('SELECT min(seq)::int AS lo, max(seq)::int AS hi, count(*)::int AS n FROM audit_events');
    expect(rows[0].hi - rows[0].lo + 1).toBe(rows[0].n);
    const result = await verify();
    expect(result.out).toMatch(/audit chain intact: \d+ events verified/);
    expect(result.code).toBe(0);
  });
});

describe('tamper evidence', () => {
  it('refuses UPDATE, DELETE and TRUNCATE through the append-only trigger', async () => {
    await expect(world.sql.query("UPDATE audit_events SET actor = 'x' WHERE seq = 1")).rejects.toThrow(/append-only/);
    await expect(world.sql.query('DELETE FROM audit_events WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(world.sql.query('TRUNCATE audit_events')).rejects.toThrow(/append-only/);
  });

  it('detects a deleted tail with the chain head rewound, through a checkpoint kept outside', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-checkpoint-'));
    const file = path.join(dir, 'checkpoints.jsonl');
    try {
      await post('/api/v1/teams', { name: 'before-checkpoint' });
      const exported = await verify('--export-checkpoint', file);
      expect(exported.code).toBe(0);
      const checkpoint = JSON.parse((await fs.readFile(file, 'utf8')).trim()) as { seq: number; row_hash: string };
      // The REST API serves the same head for operators who scrape it instead.
      expect(await (await world.server.request('/api/v1/audit/checkpoint')).json()).toEqual({ seq: checkpoint.seq, row_hash: checkpoint.row_hash });
      expect((await verify('--checkpoint', file)).code).toBe(0);

      // A superuser deletes the newest two events and rewinds the head: the chain alone verifies.
      const { rows } = await world.sql.query('SELECT seq::int, prev_hash FROM audit_events ORDER BY seq DESC LIMIT 2');
      const oldest = rows[1] as { seq: number; prev_hash: string };
      await world.sql.query('SET session_replication_role = replica');
      await world.sql.query('DELETE FROM audit_events WHERE seq >= $1', [oldest.seq]);
      await world.sql.query('UPDATE audit_chain_head SET last_seq = $1, last_hash = $2', [oldest.seq - 1, oldest.prev_hash]);
      await world.sql.query('SET session_replication_role = DEFAULT');
      expect((await verify()).code).toBe(0);
      const result = await verify('--checkpoint', file);
      expect(result.code).toBe(1);
      expect(result.out).toMatch(new RegExp(`checkpoint saw seq ${checkpoint.seq}.*deleted`));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('names the first event a superuser altered', async () => {
    // Runs last in this file: it breaks the chain on purpose.
    const { rows } = await world.sql.query('SELECT seq::int, id FROM audit_events ORDER BY seq LIMIT 1 OFFSET 3');
    const victim = rows[0] as { seq: number; id: string };
    await world.sql.query('SET session_replication_role = replica'); // a superuser bypassing triggers
    await world.sql.query(`UPDATE audit_events SET details = details || '{"note":"edited"}' WHERE seq = $1`, [victim.seq]);
    await world.sql.query('SET session_replication_role = DEFAULT');
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.out).toContain(`BROKEN at seq ${victim.seq} (event ${victim.id})`);
    expect(result.out).toMatch(/altered/);
  });
});
