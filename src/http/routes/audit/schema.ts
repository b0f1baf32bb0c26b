import { z } from 'zod';
import { auditCategories } from '../../../domain/audit.ts';

const timestamp = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 timestamp' }).transform((s) => new Date(s));

const filters = {
  category: z.enum(auditCategories).optional(),
  actor: z.string().max(255).optional(),
  action: z.string().max(255).optional(),
  resource_type: z.string().max(255).optional(),
  resource_id: z.string().max(255).optional(),
  /** Inclusive bounds on the event timestamp. */
  since: timestamp.optional(),
  until: timestamp.optional(),
};

const sinceBeforeUntil = (q: { since?: Date | undefined; until?: Date | undefined }) => !q.since || !q.until || q.since <= q.until;

export const AuditListSchema = z
  .strictObject({
    ...filters,
    per_page: z.coerce.number().int().min(1).max(500).optional(),
    cursor: z.string().min(1).max(1024).optional(),
  })
  .refine(sinceBeforeUntil, { message: 'since must not be after until', path: ['since'] });
export type AuditListReq = z.infer<typeof AuditListSchema>;

export const AuditExportSchema = z.strictObject(filters).refine(sinceBeforeUntil, { message: 'since must not be after until', path: ['since'] });
export type AuditExportReq = z.infer<typeof AuditExportSchema>;

export const AuditEventSchema = z.object({
  id: z.string(),
  seq: z.number().int().describe('position in the hash chain'),
  actor: z.string().describe('API key id (or "system")'),
  actor_type: z.string(),
  action: z.string(),
  resource_type: z.string(),
  resource_id: z.string(),
  details: z.record(z.string(), z.unknown()),
  timestamp: z.iso.datetime({ offset: true }),
  category: z.enum(auditCategories),
  prev_hash: z.string(),
  row_hash: z.string().describe('sha256(prev_hash + "\\n" + canonical event); see certfleet audit verify'),
});

export const AuditCheckpointSchema = z.object({
  seq: z.number().int().describe('sequence number of the newest chained event (0: none yet)'),
  row_hash: z.string().describe('its row_hash (64 hex characters)'),
});
