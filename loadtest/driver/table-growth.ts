/**
 * Row counts of a scenario's tables sampled through a run (`tables` in the scenario): do the
 * tables a GC keeps bounded stop growing once its retention has passed, and do the tables that
 * follow issued certificates grow by a constant number of rows per flow? Exact count(*) on the
 * target's database, every `everyMs`.
 */
import pg from 'pg';

export interface TableSpec {
  /** Tables a GC keeps bounded (spent nonces, rate-limit rows): they must stop growing. */
  bounded: string[];
  /** Tables that grow with what a run creates (orders of issued certificates): reported only. */
  growing?: string[];
  /**
   * Seconds after which the bounded tables should be steady (retention + GC interval), from the
   * environment the driver started the server with (empty for --url targets: the defaults).
   */
  settleSeconds: (serverEnv: Record<string, string>) => number;
}

export interface TableSamples {
  atMs: number[];
  counts: Record<string, number[]>;
}

const tableName = /^[a-z_][a-z0-9_]*$/;

/** Starts sampling; stop() takes a last sample and returns all of them. */
export function sampleTables(databaseUrl: string, spec: TableSpec, everyMs: number): { stop: () => Promise<TableSamples> } {
  const tables = [...spec.bounded, ...(spec.growing ?? [])];
  for (const t of tables) if (!tableName.test(t)) throw new Error(`not a table name: ${t}`);
  const samples: TableSamples = { atMs: [], counts: Object.fromEntries(tables.map((t) => [t, []])) };
  // One connection through a pool: a connection the database drops (a restart, a fault run) is
  // replaced at the next sample, and its error event has a listener instead of ending the driver.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  pool.on('error', () => undefined);
  const started = performance.now();
  let sampling: Promise<void> = Promise.resolve();
  const sample = async () => {
    const { rows } = await pool.query<Record<string, string>>(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ')}`);
    samples.atMs.push(performance.now() - started);
    for (const t of tables) samples.counts[t]!.push(Number(rows[0]![t]));
  };
  const ready = sample();
  const timer = setInterval(() => {
    sampling = sampling
      .then(() => ready)
      .then(sample)
      .catch(() => undefined); // a missed sample is a gap, not a failed run
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await ready;
      await sampling;
      await sample();
      await pool.end();
      return samples;
    },
  };
}

/**
 * Growth of each table over the second half of the run, as a fraction of its count at the half
 * (0.02 = 2% more rows), and whether every bounded table stayed within `tolerance`. Judged only
 * when the run lasted at least twice the settle time (before that, growth is expected).
 */
export function judgeTables(
  samples: TableSamples,
  spec: TableSpec,
  serverEnv: Record<string, string>,
  tolerance = 0.05,
): { checks: Record<string, number | boolean>; lines: string[] } {
  const settleSeconds = spec.settleSeconds(serverEnv);
  const n = samples.atMs.length;
  const durationS = (samples.atMs[n - 1] ?? 0) / 1000;
  const mid = samples.atMs.findIndex((t) => t >= (samples.atMs[n - 1] ?? 0) / 2);
  const checks: Record<string, number | boolean> = {};
  const lines = [`table rows over the run (${n} samples): start, 1/4, 1/2, 3/4, end; growth over the second half`];
  const at = (counts: number[], f: number) => counts[Math.min(n - 1, Math.round((n - 1) * f))] ?? 0;
  for (const [table, counts] of Object.entries(samples.counts)) {
    const half = counts[mid] ?? 0;
    const growth = (at(counts, 1) - half) / Math.max(1, half);
    checks[`table_${table}_second_half_growth`] = Math.round(growth * 1000) / 1000;
    const kind = spec.bounded.includes(table) ? 'bounded' : 'grows with the run';
    lines.push(
      `  ${table.padEnd(24)} ${[0, 0.25, 0.5, 0.75, 1].map((f) => String(at(counts, f)).padStart(8)).join(' ')}  ${(growth * 100).toFixed(1).padStart(6)}%  (${kind})`,
    );
  }
  if (durationS >= 2 * settleSeconds) {
    checks.tables_bounded = spec.bounded.every((t) => (checks[`table_${t}_second_half_growth`] as number) <= tolerance);
  } else lines.push(`  (not judged: ${durationS.toFixed(0)} s is less than twice the ${settleSeconds} s the bounded tables need to settle)`);
  return { checks, lines };
}
