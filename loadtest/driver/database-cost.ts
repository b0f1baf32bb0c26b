/**
 * What the measured window cost PostgreSQL, per completed request (or flow): WAL bytes,
 * transactions (every committed one, read-only ones included: pg_stat_database.xact_commit),
 * WAL flushes (fsyncs, from pg_stat_io on PostgreSQL 16+: what group commit saves) and rows
 * written (inserted + updated + deleted), before and after. The basis of the capacity model in
 * docs/operator/scale-out.md: at what rate one primary's WAL, commits or row versions run out.
 * Whole-cluster figures: anything else writing meanwhile (the leader's loops) is counted too.
 */
import pg from 'pg';

export interface DatabaseCounters {
  walLsn: string;
  transactions: number;
  /** undefined before PostgreSQL 16 (no pg_stat_io). */
  walSyncs: number | undefined;
  rowsWritten: number;
}

async function read(databaseUrl: string): Promise<DatabaseCounters> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Statistics reach pg_stat_database when each backend flushes them (at most a second late).
    const { rows } = await client.query<{ lsn: string; transactions: string; written: string }>(
      `SELECT pg_current_wal_lsn()::text AS lsn, xact_commit AS transactions, tup_inserted + tup_updated + tup_deleted AS written
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    const io = await client
      .query<{ n: string | null }>("SELECT sum(fsyncs) AS n FROM pg_stat_io WHERE object = 'wal'")
      .then((r) => (r.rows[0]?.n == null ? undefined : Number(r.rows[0].n)))
      .catch(() => undefined);
    return { walLsn: rows[0]!.lsn, transactions: Number(rows[0]!.transactions), walSyncs: io, rowsWritten: Number(rows[0]!.written) };
  } finally {
    await client.end();
  }
}

export const databaseCountersBefore = read;

/** Per request: `completed` is what the window completed (requests, or flows for flow scenarios). */
export async function databaseCostSince(databaseUrl: string, before: DatabaseCounters, completed: number): Promise<Record<string, number>> {
  await new Promise((r) => setTimeout(r, 1_100));
  const after = await read(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let walBytes: number;
  try {
    walBytes = Number((await client.query<{ d: string }>('SELECT pg_wal_lsn_diff($1, $2) AS d', [after.walLsn, before.walLsn])).rows[0]!.d);
  } finally {
    await client.end();
  }
  const per = (n: number) => (completed > 0 ? Math.round((n / completed) * 100) / 100 : 0);
  return {
    db_wal_bytes_per_request: per(walBytes),
    db_transactions_per_request: per(after.transactions - before.transactions),
    ...(after.walSyncs !== undefined && before.walSyncs !== undefined ? { db_wal_syncs_per_request: per(after.walSyncs - before.walSyncs) } : {}),
    db_rows_written_per_request: per(after.rowsWritten - before.rowsWritten),
  };
}
