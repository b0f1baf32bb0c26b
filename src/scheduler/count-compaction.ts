/**
 * Count compaction (leader-only loop): certificate totals are sums over the deltas that writes
 * append (migrations/0013_certificate_counts.sql); folding them into one row per status keeps
 * that sum a handful of rows whatever the write rate. One statement per tick.
 */
import type { CertificateRepository } from '../db/certificates.ts';
import type { Logger } from '../observability/logger.ts';
import { Loop } from './loop.ts';

export function countCompactionLoop(deps: { certificates: Pick<CertificateRepository, 'compactCounts'>; intervalSeconds: number; log: Logger }): Loop {
  return new Loop({
    name: 'count-compaction',
    intervalMs: deps.intervalSeconds * 1000,
    log: deps.log,
    run: async () => {
      await deps.certificates.compactCounts();
    },
  });
}
