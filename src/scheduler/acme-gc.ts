/**
 * ACME GC (leader-only loop): deletes spent nonces past their expiry and rate-limit rows whose
 * buckets are full again, in batches, so both tables hold at most one nonce lifetime (one
 * hour of limits) of traffic whatever the request rate.
 * Validations a replica abandoned mid-way (crash, deploy) are run again. Orders past their
 * expiry become invalid (pollers stop), and those that never got a
 * certificate are deleted a week later: the order tables hold a bounded window too.
 */
import type { AcmeServer } from '../acme/server.ts';
import type { Logger } from '../observability/logger.ts';
import { Loop } from './loop.ts';

/** Rows per DELETE: short statements that never hold locks for long. */
const batch = 5_000;

export function acmeGcLoop(deps: {
  acme: Pick<AcmeServer, 'deleteExpiredNonces' | 'deleteIdleRateLimits' | 'expireOrders' | 'deleteExpiredOrders' | 'retryInterruptedValidations'>;
  intervalSeconds: number;
  log: Logger;
}): Loop {
  return new Loop({
    name: 'acme-gc',
    intervalMs: deps.intervalSeconds * 1000,
    log: deps.log,
    run: async (signal) => {
      const drain = async (step: (limit: number) => Promise<number>) => {
        let deleted = 0;
        for (;;) {
          const n = await step(batch);
          deleted += n;
          if (n < batch || signal.aborted) return deleted;
        }
      };
      const nonces = await drain((n) => deps.acme.deleteExpiredNonces(n));
      const limits = await drain((n) => deps.acme.deleteIdleRateLimits(n));
      // One batch a run: the queue takes what it can, the next run takes more.
      const retried = await deps.acme.retryInterruptedValidations(500);
      const expired = await drain((n) => deps.acme.expireOrders(n));
      const orders = await drain((n) => deps.acme.deleteExpiredOrders(n));
      if (nonces + limits + retried + expired + orders > 0) deps.log.debug({ nonces, limits, retried, expired, orders }, 'ACME GC');
    },
  });
}
