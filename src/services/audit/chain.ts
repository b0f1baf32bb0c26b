/**
 * The audit hash chain. row_hash = SHA-256(prev_hash + "\n" + canonical(event)), where the
 * canonical form is JSON with object keys sorted at every depth, so it survives PostgreSQL's
 * jsonb (which reorders keys). The first row's prev_hash is 64 zeros.
 */
import { createHash } from 'node:crypto';

export const genesisHash = '0'.repeat(64);

import type { AuditEvent } from '../../domain/audit.ts';

export function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function auditRowHash(prevHash: string, e: Omit<AuditEvent, 'prevHash' | 'rowHash'>): string {
  const canonical = canonicalJson([
    e.seq,
    e.id,
    e.actor,
    e.actorType,
    e.action,
    e.resourceType,
    e.resourceId,
    e.details,
    e.timestamp.toISOString(),
    e.category,
  ]);
  return createHash('sha256').update(`${prevHash}\n${canonical}`).digest('hex');
}
