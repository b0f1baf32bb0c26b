import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, description, name } from '../common/fields.ts';

export const ekus = ['serverAuth', 'clientAuth', 'codeSigning', 'emailProtection', 'timeStamping'] as const;

const keyAlgorithm = z
  .strictObject({
    algorithm: z.enum(['ECDSA', 'RSA', 'Ed25519']),
    /** ECDSA: 256/384/521 (curve bits); RSA: 2048..8192; Ed25519: omitted. */
    min_size: z.number().int().min(0).max(8192).optional(),
  })
  .refine((k) => k.algorithm !== 'RSA' || k.min_size === undefined || k.min_size >= 2048, {
    message: 'RSA min_size must be at least 2048',
    path: ['min_size'],
  })
  .refine((k) => k.algorithm !== 'ECDSA' || k.min_size === undefined || [256, 384, 521].includes(k.min_size), {
    message: 'ECDSA min_size must be 256, 384 or 521',
    path: ['min_size'],
  });

/** A DNS name, optionally with one leading wildcard label: "*.example.com", "api.example.com". */
const sanPattern = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/,
    'must be a DNS name, optionally starting with "*."',
  );

export const ProfilesCreateSchema = z.strictObject({
  id: clientId,
  name,
  description: description.optional(),
  allowed_key_algorithms: z.array(keyAlgorithm).min(1).max(10).optional(),
  /** Longest certificate lifetime in seconds; 0 = no cap beyond the issuer's. At most 10 years. */
  max_ttl_seconds: z.number().int().min(0).max(315_360_000).optional(),
  allowed_ekus: z.array(z.enum(ekus)).min(1).max(ekus.length).optional(),
  /** SAN patterns every requested name must match; empty = any name. */
  san_patterns: z.array(sanPattern).max(100).optional(),
  /** ACME: 'challenge' (clients prove control of each name; the default) or 'trust_authenticated' (any account gets any allowed name). */
  acme_auth_mode: z.enum(['trust_authenticated', 'challenge']).optional(),
  /** With the three below, offers the profile over ACME: the issuer, owner, team and renewal policy its ACME certificates get. */
  acme_issuer_id: clientId.nullable().optional(),
  acme_owner_id: clientId.nullable().optional(),
  acme_team_id: clientId.nullable().optional(),
  acme_renewal_policy_id: clientId.nullable().optional(),
  enabled: z.boolean().optional(),
});
export const ProfilesUpdateSchema = ProfilesCreateSchema.omit({ id: true }).partial();
export type ProfilesCreateReq = z.infer<typeof ProfilesCreateSchema>;

const columns = [
  'id',
  'name',
  'description',
  'allowed_key_algorithms',
  'max_ttl_seconds',
  'allowed_ekus',
  'san_patterns',
  'acme_auth_mode',
  'acme_issuer_id',
  'acme_owner_id',
  'acme_team_id',
  'acme_renewal_policy_id',
  'enabled',
  'created_at',
  'updated_at',
] as const;

export const profiles: InventoryResourceDefinition = {
  path: '/api/v1/profiles',
  kind: 'certificate_profiles',
  createSchema: ProfilesCreateSchema,
  updateSchema: ProfilesUpdateSchema,
  fields: columns,
};
