import { describe, expect, it } from 'vitest';
import { judgeTables, type TableSamples } from './table-growth.ts';

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
