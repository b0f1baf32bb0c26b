/**
 * CI, 2026-12-03: a directory read right after `PATCH /api/v1/profiles/trusted` (200) listed the
 * old description. Profile changes were announced by a NOTIFY inside the writing transaction
 * (migration 0020), which the writer's change feed reads some time after the COMMIT, while every
 * other table's trigger hands its bucket to the unit of work, which announces it and waits for it
 * to come back before the write is acknowledged. Every trigger must go through certfleet_announce.
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
    expect(rows.map((r) => r.proname)).toEqual(['certfleet_announce', 'certfleet_announce_all']);
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
});
