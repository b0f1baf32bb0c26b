/** What the renewal sweep reads: the certificates due for renewal, streamed. */
import type { Pool } from './pool.ts';
import { streamRows } from './sql.ts';

export interface RenewalSweepRepository {
  /**
   * Streams the ids of certificates due for renewal in batches: auto_renew policy, renewable
   * status (Active, Expiring), inside the policy's renewal window, and no open issuance/renewal
   * job. `onBatch` returning false stops the stream. Returns how many ids were read.
   */
  streamDue(batchSize: number, onBatch: (ids: string[]) => Promise<void | false>): Promise<number>;
}

export function createRenewalSweepRepository(pool: Pool): RenewalSweepRepository {
  return {
    streamDue(batchSize, onBatch) {
      return streamRows<[string]>(
        pool,
        // The first expires_at bound (the longest window a policy may have) lets the planner
        // use certificates_expires_idx; the join then applies each certificate's own window.
        `SELECT c.id FROM certificates c JOIN renewal_policies p ON p.id = c.renewal_policy_id
          WHERE c.expires_at <= now() + interval '365 days'
            AND c.expires_at <= now() + make_interval(days => p.renewal_window_days)
            AND p.auto_renew AND c.status IN ('Active', 'Expiring')
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.certificate_id = c.id AND j.type IN ('Issuance', 'Renewal')
                              AND j.status IN ('Pending', 'AwaitingCSR', 'Running'))`,
        [],
        batchSize,
        (rows) => onBatch(rows.map((r) => r[0])),
        { rowMode: 'array' },
      );
    },
  };
}
