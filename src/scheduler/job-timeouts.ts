/**
 * Job timeouts (leader-only loop): a deployment job an agent claimed (Running) and never
 * reported on, because the agent died or lost its network, would otherwise stay Running
 * forever. After `timeoutSeconds` it goes back to Pending (the agent, or its replacement,
 * claims it again) or, once it used max_attempts, to Failed. Signing jobs whose replica stopped
 * renewing their lease (it died) likewise. One set-based UPDATE per tick.
 */
import type { JobRepository } from '../db/jobs.ts';
import type { Logger } from '../observability/logger.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import { Loop } from './loop.ts';

export async function timeOutJobs(deps: { jobs: Pick<JobRepository, 'timeOutRunning'>; audit: AuditWriter; timeoutSeconds: number }) {
  return deps.audit.atomically(async () => {
    const result = await deps.jobs.timeOutRunning(deps.timeoutSeconds);
    if (result.requeued || result.failed) {
      await deps.audit.record(undefined, {
        action: 'jobs_timed_out',
        resourceType: 'job',
        resourceId: 'timeouts',
        category: 'cert_lifecycle',
        details: { ...result, timeout_seconds: deps.timeoutSeconds },
      });
    }
    return result;
  });
}

export function jobTimeoutLoop(deps: Parameters<typeof timeOutJobs>[0] & { intervalSeconds: number; log: Logger }): Loop {
  return new Loop({
    name: 'job-timeouts',
    intervalMs: deps.intervalSeconds * 1000,
    log: deps.log,
    run: async () => {
      const { requeued, failed } = await timeOutJobs(deps);
      if (requeued || failed) deps.log.warn({ requeued, failed }, 'Running jobs timed out');
    },
  });
}
