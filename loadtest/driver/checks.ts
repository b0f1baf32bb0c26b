/**
 * Checks a scenario names in `verify`, run against the database before and after the load:
 * what the server acknowledged must be what it stored.
 */
import pg from 'pg';
import type { Summary } from './stats.ts';

export interface Check {
  before(databaseUrl: string): Promise<unknown>;
  after(databaseUrl: string, before: unknown, summary: Summary): Promise<Record<string, number | boolean>>;
}

async function scalar(databaseUrl: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
  } finally {
    await client.end();
  }
}

// Heartbeats that met another replica's batch are appended to heartbeat_deferred until the leader folds them.
const recordedHeartbeats = (url: string) =>
  scalar(
    url,
    `SELECT (SELECT coalesce(sum(heartbeats), 0) FROM agent_liveness WHERE agent_id LIKE 'load-agent-%')
          + (SELECT coalesce(sum(heartbeats), 0) FROM heartbeat_deferred WHERE agent_id LIKE 'load-agent-%') AS n`,
  );

const acmeCertificates = (url: string) => scalar(url, "SELECT count(*) AS n FROM acme_orders WHERE status = 'valid' AND version_id IS NOT NULL");

export const checks: Record<string, Check> = {
  /** Every ACME flow that completed (its certificate downloaded) left a valid order with its certificate stored. */
  acme_certificates_durable: {
    before: acmeCertificates,
    async after(url, before, summary) {
      const stored = (await acmeCertificates(url)) - (before as number);
      const downloaded = summary.completed;
      const lost = Math.max(0, downloaded - stored);
      return { downloaded, stored, lost, ok: lost === 0 };
    },
  },
  /** Every heartbeat answered 200 is counted in agent_liveness or heartbeat_deferred (none lost). */
  heartbeats_durable: {
    before: recordedHeartbeats,
    async after(url, before, summary) {
      const recorded = (await recordedHeartbeats(url)) - (before as number);
      const acknowledged = summary.status['200'] ?? 0;
      // A heartbeat written but never answered (the run ended first) may be recorded without an
      // acknowledgement; an acknowledged one that is missing is lost.
      const lost = Math.max(0, acknowledged - recorded);
      return { acknowledged, recorded, lost, ok: lost === 0 };
    },
  },
};
