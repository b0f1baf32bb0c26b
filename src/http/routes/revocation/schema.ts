import { z } from 'zod';
import { revocationReasons } from '../../../pki/crl.ts';
import { criteriaFields, criterionRequired, hasCriterion } from '../common/criteria.ts';

const reasons = Object.keys(revocationReasons) as [keyof typeof revocationReasons, ...Array<keyof typeof revocationReasons>];
const reason = z.enum(reasons, { error: `must be one of ${reasons.join(', ')} (RFC 5280 reason codes)` });

export const RevokeSchema = z.strictObject({
  /** RFC 5280 reason; default unspecified. */
  reason: reason.optional(),
});
export type RevokeReq = z.infer<typeof RevokeSchema>;

export const BulkRevokeSchema = z.strictObject({ reason, ...criteriaFields }).refine(hasCriterion, criterionRequired);
export type BulkRevokeReq = z.infer<typeof BulkRevokeSchema>;

export const RevokedSchema = z.object({ status: z.literal('revoked'), certificate_id: z.string(), reason: z.string(), revoked_serials: z.number().int() });
export const BulkRevokedSchema = z.object({
  total_matched: z.number().int(),
  total_revoked: z.number().int(),
  total_skipped: z.number().int().describe('already Revoked or Archived'),
  total_failed: z.number().int(),
});
