import type { AuditRawRow } from '../../domain/audit.ts';
import type { AuditEvent } from '../../domain/audit.ts';

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

const q = JSON.stringify;

/**
 * presentAuditEvent's JSON for a raw export row, by concatenation: `details` is spliced in as
 * PostgreSQL's jsonb text (valid JSON, never parsed here) and the timestamp arrives ISO-formatted.
 * presentAuditEvent is the oracle: test/integration/audit.test.ts checks that exported lines
 * parse to exactly what GET /api/v1/audit/{id} returns.
 */
export function auditEventJsonLine(r: AuditRawRow): string {
  return `{"id":${q(r[0])},"seq":${r[1]},"actor":${q(r[2])},"actor_type":${q(r[3])},"action":${q(r[4])},"resource_type":${q(r[5])},"resource_id":${q(r[6])},"details":${r[7]},"timestamp":${q(r[8])},"category":${q(r[9])},"prev_hash":${q(r[10])},"row_hash":${q(r[11])}}`;
}
