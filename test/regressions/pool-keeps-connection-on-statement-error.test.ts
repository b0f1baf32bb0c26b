/**
 * A statement error (here a unique violation, i.e. every 409) must not cost a database
 * connection: pg-pool's query() used to discard the connection on any error, so each conflict
 * paid for a new connection and a server storm of retries could starve the API (32 vs 2,796
 * failing statements/s measured). The backend pid shows whether the connection survived.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { memoryLogger } from '../support/memory-log.ts';

let db: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 1, log: memoryLogger().log });
  await pool.query("INSERT INTO teams (id, name) VALUES ('t-1', 'Taken')");
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

const backendPid = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

describe('pool', () => {
  it('keeps its connection after statement errors', async () => {
    const before = await backendPid();
    for (let i = 0; i < 20; i++) {
      await expect(pool.query("INSERT INTO teams (id, name) VALUES ($1, 'Taken')", [`t-x${i}`])).rejects.toMatchObject({ code: '23505' });
    }
    await expect(pool.query('SELECT no_such_column FROM teams')).rejects.toMatchObject({ code: '42703' });
    expect(await backendPid()).toBe(before);
  });

  it('still discards a connection that is actually broken', async () => {
    const victim = await backendPid();
    const killer = createPool({ connectionString: db.url, max: 1, log: memoryLogger().log });
    await killer.query('SELECT pg_terminate_backend($1)', [victim]);
    await killer.end();
    // Depending on timing the pool notices while idle, or the next query fails (57P01, now the
    // 503 kind); either way the connection after that is a new one.
    await pool.query('SELECT 1').catch((err: { code?: string }) => expect(err.code).toBe('CF_ERR_DATABASE_UNAVAILABLE'));
    expect(await backendPid()).not.toBe(victim);
  });
});
