/**
 * Audit chain sweep (every replica): audited writes commit their events into the outbox and
 * their replica chains them at once (src/services/audit/writer.ts); this loop chains whatever a
 * replica killed between the two left behind, and what a failed pass (database restart) left.
 * Cheap when there is nothing: one indexed read, no lock.
 */
import type { Logger } from '../observability/logger.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import { Loop } from './loop.ts';

export function auditChainLoop(deps: { audit: Pick<AuditWriter, 'sweep'>; intervalSeconds: number; log: Logger }): Loop {
  return new Loop({
    name: 'audit-chain',
    intervalMs: deps.intervalSeconds * 1000,
    randomStart: true,
    log: deps.log,
    run: () => deps.audit.sweep(),
  });
}
