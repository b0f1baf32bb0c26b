import { z } from 'zod';
import { revocationReasons } from '../../../pki/crl.ts';
import { refId } from '../common/fields.ts';

const reasons = Object.keys(revocationReasons) as [keyof typeof revocationReasons, ...Array<keyof typeof revocationReasons>];
const reason = z.enum(reasons, { error: `must be one of ${reasons.join(', ')} (RFC 5280 reason codes)` });

export const RevokeSchema = z.strictObject({
  /** RFC 5280 reason; default unspecified. */
  reason: reason.optional(),
});
export type RevokeReq = z.infer<typeof RevokeSchema>;

export const BulkRevokeSchema = z
  .strictObject({
    reason,
    profile_id: refId.optional(),
    owner_id: refId.optional(),
    agent_id: refId.optional(),
    issuer_id: refId.optional(),
    team_id: refId.optional(),
    certificate_ids: z.array(refId).min(1).max(100_000).optional(),
  })
  .refine(
    (b) => ['profile_id', 'owner_id', 'agent_id', 'issuer_id', 'team_id', 'certificate_ids'].some((k) => b[k as keyof typeof b] !== undefined),
    { message: 'give at least one criterion: profile_id, owner_id, agent_id, issuer_id, team_id or certificate_ids', path: ['criteria'] },
  );
export type BulkRevokeReq = z.infer<typeof BulkRevokeSchema>;

export const RevokedSchema = z.object({ status: z.literal('revoked'), certificate_id: z.string(), reason: z.string(), revoked_serials: z.number().int() });
export const BulkRevokedSchema = z.object({
  total_matched: z.number().int(),
  total_revoked: z.number().int(),
  total_skipped: z.number().int().describe('already Revoked or Archived'),
  total_failed: z.number().int(),
});
