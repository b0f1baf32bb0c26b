/**
 * What the measured window cost PostgreSQL, per completed request (or flow): WAL bytes, commits
 * and rows written (inserted + updated + deleted), from pg_current_wal_lsn() and
 * pg_stat_database before and after. The basis of the capacity model in
 * docs/operator/scale-out.md: at what rate one primary's WAL, commits or row versions run out.
 * Whole-cluster figures: anything else writing meanwhile (the leader's loops) is counted too.
 */
import pg from 'pg';

export interface DatabaseCounters {
  walLsn: string;
  commits: number;
  rowsWritten: number;
}

async function read(databaseUrl: string): Promise<DatabaseCounters> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Statistics reach pg_stat_database when each backend flushes them (at most a second late).
    const { rows } = await client.query<{ lsn: string; commits: string; written: string }>(
      `SELECT pg_current_wal_lsn()::text AS lsn, xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS written
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { walLsn: rows[0]!.lsn, commits: Number(rows[0]!.commits), rowsWritten: Number(rows[0]!.written) };
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
    db_commits_per_request: per(after.commits - before.commits),
    db_rows_written_per_request: per(after.rowsWritten - before.rowsWritten),
  };
}
