import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/database.ts';
import { withClient } from '../../test/support/fixtures.ts';
import { judgeTables, sampleTables, type TableSamples } from './table-growth.ts';

const spec = { bounded: ['nonces'], growing: ['orders'], settleSeconds: () => 60 };
const run = (seconds: number, nonces: (t: number) => number): TableSamples => {
  const atMs = Array.from({ length: seconds / 10 + 1 }, (_, i) => i * 10_000);
  return { atMs, counts: { nonces: atMs.map((t) => nonces(t / 1000)), orders: atMs.map((t) => (t / 1000) * 40) } };
};

describe('judgeTables', () => {
  it('passes a bounded table that levels off after its settle time, whatever the growing ones do', () => {
    const { checks, lines } = judgeTables(
      run(600, (t) => Math.min(t, 60) * 40),
      spec,
      {},
    );
    expect(checks.tables_bounded).toBe(true);
    expect(checks.table_nonces_second_half_growth).toBe(0);
    expect(checks.table_orders_second_half_growth).toBeCloseTo(1, 1);
    expect(lines[1]).toMatch(/nonces .*0\.0%\s+\(bounded\)/);
  });

  it('fails a bounded table still growing in the second half', () => {
    expect(
      judgeTables(
        run(600, (t) => t * 40),
        spec,
        {},
      ).checks.tables_bounded,
    ).toBe(false);
  });

  it('does not judge a run shorter than twice the settle time', () => {
    const { checks, lines } = judgeTables(
      run(100, (t) => t * 40),
      spec,
      {},
    );
    expect(checks.tables_bounded).toBeUndefined();
    expect(lines.at(-1)).toMatch(/not judged/);
  });
});

describe('sampleTables against a real PostgreSQL', () => {
  it('outlives its connection being dropped (a fault run): the sample after it reconnects', async () => {
    const db = await createTestDatabase();
    try {
      await withClient(db.url, (c) => c.query('CREATE TABLE sampled (n int)'));
      const sampler = sampleTables(db.url, { bounded: ['sampled'], settleSeconds: () => 0 }, 50);
      await new Promise((r) => setTimeout(r, 150));
      // Drop the sampler's connection as a restarting database would (57P01, FATAL): without a
      // listener for the client's error event, this ended the whole driver.
      const dropped = await withClient(db.url, (c) =>
        c.query<{ n: number }>(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        ),
      );
      expect(dropped.rows[0]!.n).toBe(1);
      await withClient(db.url, (c) => c.query('INSERT INTO sampled SELECT generate_series(1, 3)'));
      await new Promise((r) => setTimeout(r, 150));
      const samples = await sampler.stop();
      expect(samples.counts.sampled!.at(-1)).toBe(3);
    } finally {
      await db.drop();
    }
  });
});
