import { z } from 'zod';
import { roles } from '../../../domain/roles.ts';

export const KeysCreateSchema = z.strictObject({
  /** Unique among live keys; letters, digits, space and . _ @ - */
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(255, 'must be at most 255 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]*$/, 'may contain letters, digits, space and . _ @ - and must start with a letter or digit'),
  role: z.enum(roles, { error: `must be one of ${roles.join(', ')}` }),
  /** RFC 3339 timestamp in the future; omitted = never expires. */
  expires_at: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 timestamp' }).optional(),
});
export type KeysCreateReq = z.infer<typeof KeysCreateSchema>;

const at = z.iso.datetime({ offset: true });
export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(roles),
  created_at: at,
  last_used_at: at.nullable().describe('recorded in batches, at most a minute behind'),
  expires_at: at.nullable(),
  revoked_at: at.nullable(),
});
export const ApiKeyCreatedSchema = ApiKeySchema.extend({ key: z.string().describe('the secret; shown only in this response') });
