import type { AuditEvent } from '../../services/audit/chain.ts';

/** Audit events as clients see them (snake_case; seq and hashes let them check the chain). */
export function presentAuditEvent(e: AuditEvent) {
  return {
    id: e.id,
    seq: e.seq,
    actor: e.actor,
    actor_type: e.actorType,
    action: e.action,
    resource_type: e.resourceType,
    resource_id: e.resourceId,
    details: e.details,
    timestamp: e.timestamp.toISOString(),
    category: e.category,
    prev_hash: e.prevHash,
    row_hash: e.rowHash,
  };
}
