/** The migration runner against real databases: order, idempotence, checksums, concurrency. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, MigrationError, readMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { memoryLogger } from '../support/memory-log.ts';

const { log } = memoryLogger();
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function emptyDatabase(): Promise<{ db: TestDatabase; pool: pg.Pool }> {
  const db = await createTestDatabase({ migrated: false });
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  cleanups.push(
    () => db.drop(),
    () => pool.end(),
  );
  return { db, pool };
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-migrations-'));
  for (const [name, sql] of Object.entries(files)) await fs.writeFile(path.join(dir, name), sql);
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('migrate', () => {
  it('applies the shipped migrations once, in order, and records checksums', async () => {
    const { pool } = await emptyDatabase();
    const shipped = await readMigrations();
    const first = await migrate(pool, log);
    expect(first.applied).toEqual(shipped.map((m) => m.name));
    const second = await migrate(pool, log);
    expect(second).toEqual({ applied: [], alreadyApplied: shipped.length });
    const { rows } = await pool.query('SELECT name, checksum FROM schema_migrations ORDER BY version');
    expect(rows).toEqual(shipped.map((m) => ({ name: m.name, checksum: m.checksum })));
  });

  it('refuses to continue when an applied file changed', async () => {
    const { pool } = await emptyDatabase();
    const dir = await migrationsDir({ '0001_a.sql': 'CREATE TABLE a (id int);' });
    await migrate(pool, log, dir);
    await fs.writeFile(path.join(dir, '0001_a.sql'), 'CREATE TABLE a (id bigint);');
    await expect(migrate(pool, log, dir)).rejects.toThrow(/0001_a\.sql changed after it was applied/);
  });

  it('refuses a database migrated by a newer certfleet', async () => {
    const { pool } = await emptyDatabase();
    const dir = await migrationsDir({ '0001_a.sql': 'SELECT 1;', '0002_b.sql': 'SELECT 2;' });
    await migrate(pool, log, dir);
    await fs.rm(path.join(dir, '0002_b.sql'));
    await expect(migrate(pool, log, dir)).rejects.toThrow(/0002_b\.sql, which this certfleet does not ship/);
  });

  it('rolls back a failing migration entirely and reports it', async () => {
    const { pool } = await emptyDatabase();
    const dir = await migrationsDir({
      '0001_ok.sql': 'CREATE TABLE ok (id int);',
      '0002_bad.sql': 'CREATE TABLE half (id int); SELECT no_such_column FROM ok;',
    });
    const err = await migrate(pool, log, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/0002_bad\.sql failed/);
    const { rows } = await pool.query("SELECT to_regclass('half') AS half, to_regclass('ok') AS ok");
    expect(rows[0]).toEqual({ half: null, ok: 'ok' });
  });

  it('applies each file exactly once when replicas migrate concurrently', async () => {
    const { db } = await emptyDatabase();
    const dir = await migrationsDir({
      '0001_t.sql': 'CREATE TABLE t (id int); SELECT pg_sleep(0.2);',
      '0002_u.sql': 'INSERT INTO t VALUES (1);',
    });
    const pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: db.url, max: 2 }));
    cleanups.push(() => Promise.all(pools.map((p) => p.end())));
    const results = await Promise.all(pools.map((p) => migrate(p, log, dir)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(['0001_t.sql', '0002_u.sql']);
    const { rows } = await pools[0]!.query('SELECT count(*)::int AS n FROM t');
    expect(rows[0].n).toBe(1);
  });

  it('rejects badly named files', async () => {
    const dir = await migrationsDir({ '1_short.sql': 'SELECT 1;' });
    await expect(readMigrations(dir)).rejects.toThrow(/NNNN_name\.sql/);
  });
});
