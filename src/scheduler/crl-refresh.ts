/**
 * CRL refresh (leader-only loop): stored CRLs are rebuilt at half their refresh age, one signing
 * per issuer per interval across the whole cluster (certctl re-signed every CRL on every replica
 * every hour). Requests then read the stored CRL; see src/services/pki/crl.ts.
 */
import type { Logger } from '../observability/logger.ts';
import type { CrlService } from '../services/pki/crl.ts';
import { Loop } from './loop.ts';

export function crlRefreshLoop(deps: { crls: Pick<CrlService, 'refreshStale'>; intervalSeconds: number; log: Logger }): Loop {
  return new Loop({
    name: 'crl-refresh',
    intervalMs: deps.intervalSeconds * 1000,
    randomStart: true,
    randomStartMs: Math.min(deps.intervalSeconds * 1000, 60_000),
    log: deps.log,
    run: async (signal) => {
      const rebuilt = await deps.crls.refreshStale(signal);
      if (rebuilt) deps.log.info({ rebuilt }, 'CRLs refreshed');
    },
  });
}
