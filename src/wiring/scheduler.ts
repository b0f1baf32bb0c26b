/**
 * The scheduler: the singleton loops (agent health, renewal sweep, expiry alerts, job timeouts,
 * CRL refresh, count compaction, ACME GC) that run only on the replica holding the leader lock,
 * the lock itself with its run-now channel, and the audit chain loop every replica runs.
 */
import type { AcmeServer } from '../acme/server.ts';
import type { CertificateRepository } from '../db/certificates.ts';
import type { JobRepository } from '../db/jobs.ts';
import type { NotificationRepository } from '../db/notifications.ts';
import { createRenewalSweepRepository } from '../db/renewal-sweep.ts';
import { acmeGcLoop } from '../scheduler/acme-gc.ts';
import { auditChainLoop } from '../scheduler/audit-chain.ts';
import { countCompactionLoop } from '../scheduler/count-compaction.ts';
import { crlRefreshLoop } from '../scheduler/crl-refresh.ts';
import { expiryAlertsLoop } from '../scheduler/expiry-alerts.ts';
import type { JobProcessor } from '../scheduler/job-processor.ts';
import { jobTimeoutLoop } from '../scheduler/job-timeouts.ts';
import { LeaderLock } from '../scheduler/leader.ts';
import type { Loop } from '../scheduler/loop.ts';
import { renewalSweepLoop } from '../scheduler/renewal-sweep.ts';
import { runNowChannel, SingletonLoops } from '../scheduler/singleton-loops.ts';
import type { CrlService } from '../services/pki/crl.ts';
import type { WiringContext } from './context.ts';

export function wireScheduler(
  { config, log, pool, metrics, audit }: WiringContext,
  deps: {
    databaseUrl: string;
    healthLoop: Loop;
    jobs: JobRepository;
    notifications: NotificationRepository;
    certificates: CertificateRepository;
    crls: CrlService;
    acme: AcmeServer;
    jobProcessor: JobProcessor;
  },
) {
  const auditChain = auditChainLoop({ audit, intervalSeconds: config.auditChainIntervalSeconds, log });
  // The set is sealed before the lock is tried.
  const singletons = new SingletonLoops()
    .add(deps.healthLoop)
    .add(renewalSweepLoop({ sweep: createRenewalSweepRepository(pool), jobs: deps.jobs, audit, intervalSeconds: config.renewalSweepIntervalSeconds, log }))
    .add(
      expiryAlertsLoop({
        repo: deps.notifications,
        webhookUrl: config.alertWebhookUrl,
        maxAttempts: config.alertMaxAttempts,
        intervalSeconds: config.expiryAlertsIntervalSeconds,
        log,
      }),
    )
    .add(jobTimeoutLoop({ jobs: deps.jobs, audit, timeoutSeconds: config.jobRunningTimeoutSeconds, intervalSeconds: config.jobTimeoutIntervalSeconds, log }))
    .add(crlRefreshLoop({ crls: deps.crls, intervalSeconds: config.crlRefreshIntervalSeconds, log }))
    .add(countCompactionLoop({ certificates: deps.certificates, intervalSeconds: config.countCompactionIntervalSeconds, log }))
    .add(acmeGcLoop({ acme: deps.acme, intervalSeconds: config.acmeGcIntervalSeconds, log }))
    .seal();
  metrics.watchLoops(() => [...singletons.loops, deps.jobProcessor.loop, auditChain]);
  const leader = new LeaderLock({
    connectionString: deps.databaseUrl,
    retryMs: config.leaderRetryMs,
    log,
    onChange: (leading) => singletons.lead(leading),
    channels: [runNowChannel],
    onNotification: (_channel, name) => {
      const outcome = singletons.trigger(name);
      log.info({ loop: name.replace(/[^\w-]/g, '?').slice(0, 64), outcome }, 'run-now request');
    },
  });
  metrics.gauge('certfleet_leader', 'Whether this replica holds the leader lock and runs the singleton loops', () => (leader.leading ? 1 : 0));
  return { singletons, leader, auditChain };
}
