/**
 * The renewal sweep: every due certificate (auto_renew, inside its policy's renewal window)
 * gets a renewal job. Due ids stream through one server-side cursor (bounded memory for any
 * inventory) and are enqueued `batchSize` at a time by the same set-based statement as
 * bulk-renew, which re-checks each certificate and never enqueues twice (so the sweep is safe
 * beside operators' requests). Leader-only; one audit event per sweep that enqueued anything.
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
    enqueued += (await deps.jobs.bulkRenew({ certificate_ids: ids })).enqueued;
    return undefined;
  });
  if (enqueued > 0) {
    await deps.audit.record(undefined, {
      action: 'renewal_sweep',
      resourceType: 'certificate',
      resourceId: 'sweep',
      category: 'cert_lifecycle',
      details: { due, enqueued, stopped_by_budget: signal?.aborted === true },
    });
  }
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
