/**
 * `--statements`: where a run's database time goes. The embedded PostgreSQL preloads
 * pg_stat_statements (target.ts); its counters are reset when the measured run starts, and after
 * it the driver prints the 20 statements with the most execution time, the statements the
 * server sent most often (each a round trip, which on this VM costs the server about 100 us of
 * CPU: docs/operator/scale.md), and the rows each table had written meanwhile. This is how the API
 * tier's 73 ms count and the ACME rate-limit step were found.
 *
 * PostgreSQL 18 groups statements by relation alias: every foreign-key check, whatever its
 * table, is counted under the first one seen (`SELECT $2 FROM ONLY ... x ... FOR KEY SHARE OF x`).
 */
import pg from 'pg';

/** PostgreSQL settings that make pg_stat_statements available (nested statements included). */
export const statementSettings = {
  shared_preload_libraries: 'pg_stat_statements',
  'pg_stat_statements.track': 'all',
  // Planning counted apart: a statement replanned on every call shows it here, not in its execution.
  'pg_stat_statements.track_planning': 'on',
};

interface TableWrites {
  ins: number;
  upd: number;
  hot: number;
  del: number;
}

const tableWrites = async (client: pg.Client) =>
  new Map(
    (
      await client.query<{ relname: string } & TableWrites>(
        `SELECT relname, n_tup_ins::float8 AS ins, n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot, n_tup_del::float8 AS del
           FROM pg_stat_user_tables`,
      )
    ).rows.map((r) => [r.relname, r] as const),
  );

/** Resets the counters (the measured run starts now); call `report()` after it. */
export async function startStatements(databaseUrl: string): Promise<{ report(perUnit: number, unit: string): Promise<string> }> {
  const before = await withClient(databaseUrl, async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query('SELECT pg_stat_statements_reset()');
    // Table statistics are cumulative (and reported by backends with a delay): a snapshot to subtract.
    await client.query('SELECT pg_stat_clear_snapshot()');
    return tableWrites(client);
  });
  return {
    // A connection of its own at report time: one held through the run would end the driver
    // when the database drops it (a restart, a fault run).
    report: (units, unit) =>
      withClient(databaseUrl, async (client) => {
        const top = await client.query<{ calls: string; total_ms: number; mean_ms: string; plan_ms: number; query: string }>(
          `SELECT calls, round(total_exec_time)::int AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
                  round(total_plan_time)::int AS plan_ms,
                  left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query
             FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20`,
        );
        const sent = await client.query<{ calls: string; query: string }>(
          `SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query
             FROM pg_stat_statements WHERE toplevel ORDER BY calls DESC LIMIT 25`,
        );
        // A busy backend reports its table counters at most every second, an idle one within 10 s
        // (PostgreSQL 15+, pgstat): wait for the pool's idle connections to report this run's.
        await new Promise((resolve) => setTimeout(resolve, 11_000));
        await client.query('SELECT pg_stat_clear_snapshot()');
        const after = await tableWrites(client);
        const per = (n: number) => (units > 0 ? (n / units).toFixed(2) : '-');
        const lines = [
          `database time by statement (pg_stat_statements, the measured run; "plan ms" is planning, on top of execution):`,
          `${'total ms'.padStart(9)} ${'calls'.padStart(8)} ${`per ${unit}`.padStart(10)} ${'mean ms'.padStart(9)} ${'plan ms'.padStart(8)}  statement`,
          ...top.rows.map(
            (r) =>
              `${String(r.total_ms).padStart(9)} ${r.calls.padStart(8)} ${per(Number(r.calls)).padStart(10)} ${String(r.mean_ms).padStart(9)} ${String(r.plan_ms).padStart(8)}  ${r.query}`,
          ),
          '',
          'statements the server sent (top level), most frequent first:',
          `${'calls'.padStart(8)} ${`per ${unit}`.padStart(10)}  statement`,
          ...sent.rows.map((r) => `${r.calls.padStart(8)} ${per(Number(r.calls)).padStart(10)}  ${r.query}`),
          '',
          `rows written per ${unit}, by table:`,
          `${'inserted'.padStart(9)} ${'updated'.padStart(8)} ${'(hot)'.padStart(8)} ${'deleted'.padStart(8)}  table`,
        ];
        const written = [...after]
          .map(([name, a]) => {
            const b = before.get(name) ?? { ins: 0, upd: 0, hot: 0, del: 0 };
            return { name, ins: a.ins - b.ins, upd: a.upd - b.upd, hot: a.hot - b.hot, del: a.del - b.del };
          })
          .filter((t) => t.ins + t.upd + t.del > 0)
          .sort((x, y) => y.ins + y.upd + y.del - (x.ins + x.upd + x.del));
        for (const t of written)
          lines.push(`${per(t.ins).padStart(9)} ${per(t.upd).padStart(8)} ${per(t.hot).padStart(8)} ${per(t.del).padStart(8)}  ${t.name}`);
        return `${lines.join('\n')}\n`;
      }),
  };
}

async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined); // a dropped connection fails the query in flight, which reports it
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
