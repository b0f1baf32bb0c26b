/**
 * The counts behind the certificate and agent series of /metrics (src/services/fleet-series.ts):
 * certificates by issuer, stored status and time to expiry, agents by status. One grouped scan
 * each; the service runs them at most once a minute, never per scrape.
 */
import type { Pool } from './pool.ts';

/** Upper bounds of the expiry buckets, in days; past the last one a certificate is `later`. */
export const expiryBucketDays = [7, 30, 90] as const;

export interface CertificateCount {
  issuer_id: string;
  status: string;
  /** `expired`, `7d`, `30d`, `90d` (expires within that many days) or `later`. */
  expires_in: string;
  n: number;
}

export interface AgentCount {
  status: string;
  n: number;
}

export interface FleetCountsRepository {
  certificates(): Promise<CertificateCount[]>;
  agents(): Promise<AgentCount[]>;
}

export function createFleetCountsRepository(pool: Pool): FleetCountsRepository {
  const buckets = expiryBucketDays.map((d) => `WHEN expires_at <= now() + interval '${d} days' THEN '${d}d'`).join(' ');
  return {
    async certificates() {
      const { rows } = await pool.query<CertificateCount>({
        name: 'fleet-counts-certificates',
        text: `SELECT issuer_id, status,
                      CASE WHEN expires_at <= now() THEN 'expired' ${buckets} ELSE 'later' END AS expires_in,
                      count(*)::int AS n
                 FROM certificates GROUP BY 1, 2, 3`,
      });
      return rows;
    },
    async agents() {
      const { rows } = await pool.query<AgentCount>({
        name: 'fleet-counts-agents',
        text: 'SELECT status, count(*)::int AS n FROM agents WHERE retired_at IS NULL GROUP BY 1',
      });
      return rows;
    },
  };
}
