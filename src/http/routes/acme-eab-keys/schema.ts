import { z } from 'zod';

export const EabKeyCreateSchema = z.strictObject({
  /** What the key is for (a team, a cluster); shown in lists and the audit trail. */
  name: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
});

const at = z.iso.datetime({ offset: true });
export const EabKeySchema = z.object({
  id: z.string().describe('the key identifier a client sends as the EAB kid'),
  name: z.string(),
  created_by: z.string(),
  created_at: at,
  revoked_at: at.nullable(),
  account_id: z.string().nullable().describe('the ACME account this key is bound to, once used'),
  bound_at: at.nullable(),
});
export const EabKeyCreatedSchema = EabKeySchema.extend({
  hmac_key: z.string().describe('base64url HMAC key (256 bits); shown only in this response'),
  directory_url: z.string().describe('the ACME directory to use it with'),
});
