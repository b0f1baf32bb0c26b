/**
 * ACME GC (leader-only loop): deletes spent nonces past their expiry, in batches, so the
 * spent-nonce table holds at most one nonce lifetime of traffic whatever the request rate.
 * Expired orders and authorizations join it with the order flow.
 */
import type { AcmeServer } from '../acme/server.ts';
import type { Logger } from '../observability/logger.ts';
import { Loop } from './loop.ts';

/** Rows per DELETE: short statements that never hold locks for long. */
const batch = 5_000;

export function acmeGcLoop(deps: { acme: Pick<AcmeServer, 'deleteExpiredNonces'>; intervalSeconds: number; log: Logger }): Loop {
  return new Loop({
    name: 'acme-gc',
    intervalMs: deps.intervalSeconds * 1000,
    log: deps.log,
    run: async (signal) => {
      let deleted = 0;
      for (;;) {
        const n = await deps.acme.deleteExpiredNonces(batch);
        deleted += n;
        if (n < batch || signal.aborted) break;
      }
      if (deleted > 0) deps.log.debug({ nonces: deleted }, 'ACME GC');
    },
  });
}
