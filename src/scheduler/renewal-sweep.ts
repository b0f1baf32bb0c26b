/**
 * The renewal sweep: every due certificate (auto_renew, inside its policy's renewal window)
 * gets a renewal job. Due ids stream through one server-side cursor (bounded memory for any
 * inventory) and are enqueued `batchSize` at a time by the same set-based statement as
 * bulk-renew, which re-checks each certificate and never enqueues twice (so the sweep is safe
 * beside operators' requests). Leader-only. Each batch that enqueued anything commits with its
 * own audit event (a sweep can take minutes: one transaction for all of it would hold its locks).
 * The tick's budget signal stops it between batches.
 */
import type { JobRepository } from '../db/jobs.ts';
import type { RenewalSweepRepository } from '../db/renewal-sweep.ts';
import type { Logger } from '../observability/logger.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import { Loop } from './loop.ts';

export interface RenewalSweepDeps {
  sweep: RenewalSweepRepository;
  jobs: Pick<JobRepository, 'bulkRenew'>;
  audit: AuditWriter;
  batchSize?: number;
}

export async function sweepRenewals(deps: RenewalSweepDeps, signal?: AbortSignal): Promise<{ due: number; enqueued: number }> {
  let enqueued = 0;
  const due = await deps.sweep.streamDue(deps.batchSize ?? 5_000, async (ids) => {
    if (signal?.aborted) return false;
    enqueued += await deps.audit.atomically(async () => {
      const batch = await deps.jobs.bulkRenew({ certificate_ids: ids });
      if (batch.enqueued > 0) {
        await deps.audit.record(undefined, {
          action: 'renewal_sweep',
          resourceType: 'certificate',
          resourceId: 'sweep',
          category: 'cert_lifecycle',
          details: { due_in_batch: ids.length, enqueued: batch.enqueued },
        });
      }
      return batch.enqueued;
    });
    return undefined;
  });
  return { due, enqueued };
}

export function renewalSweepLoop(deps: RenewalSweepDeps & { intervalSeconds: number; log: Logger }): Loop {
  const intervalMs = deps.intervalSeconds * 1000;
  return new Loop({
    name: 'renewal-sweep',
    intervalMs,
    // The first sweep runs within a minute of taking leadership, not an interval later.
    randomStart: true,
    randomStartMs: Math.min(intervalMs, 60_000),
    log: deps.log,
    run: async (signal) => {
      const started = performance.now();
      const { due, enqueued } = await sweepRenewals(deps, signal);
      if (due > 0) deps.log.info({ due, enqueued, ms: Math.round(performance.now() - started) }, 'renewal sweep');
    },
  });
}
