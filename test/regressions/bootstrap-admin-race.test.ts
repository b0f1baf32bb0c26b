/**
 * Replicas started together each register CERTFLEET_ADMIN_API_KEY: the one that loses the race
 * used to exit on the unique violation ("duplicate key value violates unique constraint
 * api_keys_key_hash_key"); it now finds the winner's row and starts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKeyRepository } from '../../src/db/api-keys.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { ApiKeyService } from '../../src/services/auth/api-keys.ts';
import type { AuditWriter } from '../../src/services/audit/writer.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { memoryLogger } from '../support/memory-log.ts';

let db: TestDatabase;
let pool: Pool;
const { log } = memoryLogger('warn');

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 8, log });
  await migrate(pool, log);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

it('registers the bootstrap admin key once, live, when eight replicas start at the same moment', async () => {
  // Every replica's first lookup answers "not there" before any of them registers the key:
  // the race two processes starting together run.
  const replicas = 8;
  let looked = 0;
  let allLooked: () => void = () => undefined;
  const barrier = new Promise<void>((resolve) => (allLooked = resolve));
  const real = createApiKeyRepository(pool);
  const racing = {
    ...real,
    async findByHash(hash: string) {
      const row = await real.findByHash(hash);
      if (++looked === replicas) allLooked();
      if (looked <= replicas) await barrier;
      return row;
    },
  };
  const services = Array.from({ length: replicas }, () => new ApiKeyService({ repo: racing, log, audit: {} as AuditWriter }));
  const results = await Promise.allSettled(services.map((s) => s.bootstrapAdmin('cfk_bootstrap-race-0123456789abcdef')));
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE name = 'bootstrap-admin' AND revoked_at IS NULL");
  expect(rows[0]!.n).toBe(1);
  await Promise.all(services.map((s) => s.close()));
});
