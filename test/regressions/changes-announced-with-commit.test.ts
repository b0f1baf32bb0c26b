/**
 * CI, 2026-12-03: a directory read right after `PATCH /api/v1/profiles/trusted` (200) listed the
 * old description. Profile changes were announced by a NOTIFY inside the writing transaction
 * (migration 0020), which the writer's change feed reads some time after the COMMIT, while every
 * other table's trigger hands its bucket to the unit of work, which announces it and waits for it
 * to come back before the write is acknowledged. Every trigger must go through certfleet_announce.
 * API key changes (migration 0028) are also notified by their COMMIT, so that no replica keeps
 * trusting a revoked key when the writer dies between its COMMIT and its announcement.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await db.drop();
});

describe('change announcements', () => {
  it('are made only by certfleet_announce(_all), so a unit of work collects them with its COMMIT', async () => {
    const { rows } = await client.query<{ proname: string }>(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.prosrc ILIKE '%pg_notify%' ORDER BY 1`,
    );
    expect(rows.map((r) => r.proname)).toEqual(['certfleet_announce', 'certfleet_announce_all', 'certfleet_announce_with_commit']);
  });

  it('collects a profile change in the unit of work instead of notifying inside it', async () => {
    await client.query('LISTEN certfleet_changes');
    const heard: string[] = [];
    client.on('notification', (n) => heard.push(n.payload ?? ''));
    await client.query("BEGIN; SET LOCAL certfleet.unit = 'on'");
    await client.query("UPDATE certificate_profiles SET description = description || '.' WHERE true");
    const { rows } = await client.query<{ changed: string | null }>("SELECT current_setting('certfleet.changed', true) AS changed");
    await client.query('COMMIT');
    await client.query('SELECT 1'); // any notification of that commit arrives before this reply
    expect(rows[0]!.changed?.split(',')).toContain('certificate_profiles');
    expect(heard).toEqual([]);
  });

  it('announces an API key revocation with its COMMIT and in the unit of work', async () => {
    const id = `ak_regression_${Date.now()}`;
    await client.query(`INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, $1, 'viewer', encode(sha256(convert_to($1, 'UTF8')), 'hex'))`, [id]);
    // A second session listens: what the COMMIT delivers, with no announcement by the writer.
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    try {
      await listener.query('LISTEN certfleet_changes');
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await client.query("BEGIN; SET LOCAL certfleet.unit = 'on'");
      await client.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
      const { rows } = await client.query<{ changed: string | null }>("SELECT current_setting('certfleet.changed', true) AS changed");
      await client.query('COMMIT');
      expect(rows[0]!.changed?.split(',')).toContain(`api_keys/${id}`);
      const deadline = Date.now() + 5_000;
      while (!heard.includes(`api_keys/${id}`) && Date.now() < deadline) await listener.query('SELECT 1');
      expect(heard).toContain(`api_keys/${id}`);
    } finally {
      await listener.end();
    }
  });
});
