import { isIP } from 'node:net';
import { z } from 'zod';
import { certificateStatuses, sortColumns } from '../../../domain/certificates.ts';
import { clientId, name, refId } from '../common/fields.ts';
import { DeploymentReportSchema } from '../agents/schema.ts';

const dnsName = /^(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const email = z.email();

/** A DNS name (one leading wildcard label allowed), an IPv4/IPv6 address, or an email address. */
export function isSubjectName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  if (isIP(value) !== 0) return true;
  if (value.includes('@')) return email.safeParse(value).success;
  return dnsName.test(value);
}

const subjectName = z.string().refine(isSubjectName, 'must be a DNS name, an IP address or an email address');

const fields = {
  name,
  common_name: subjectName,
  /** Subject alternative names; at most 100, no repeats. */
  sans: z
    .array(subjectName)
    .max(100)
    .refine((a) => new Set(a.map((s) => s.toLowerCase())).size === a.length, 'must not repeat a name'),
  environment: z
    .string()
    .max(50)
    .regex(/^[A-Za-z0-9_.-]*$/, 'may contain letters, digits and . _ -'),
  owner_id: refId,
  team_id: refId,
  issuer_id: refId,
  renewal_policy_id: refId,
  certificate_profile_id: refId.nullable(),
  /** Free-form labels: at most 50, keys up to 64 and values up to 256 characters. */
  tags: z.record(z.string().min(1).max(64), z.string().max(256)).refine((t) => Object.keys(t).length <= 50, 'at most 50 tags'),
  /** Deployment targets that receive this certificate. Replaces the mapping when given. */
  target_ids: z
    .array(refId)
    .max(100)
    .refine((a) => new Set(a).size === a.length, 'must not repeat a target'),
};

export const CertificatesCreateSchema = z.strictObject({
  id: clientId,
  name: fields.name,
  common_name: fields.common_name,
  sans: fields.sans.optional(),
  environment: fields.environment.optional(),
  owner_id: fields.owner_id,
  team_id: fields.team_id,
  issuer_id: fields.issuer_id,
  renewal_policy_id: fields.renewal_policy_id,
  certificate_profile_id: fields.certificate_profile_id.optional(),
  tags: fields.tags.optional(),
  target_ids: fields.target_ids.optional(),
});
export type CertificatesCreateReq = z.infer<typeof CertificatesCreateSchema>;

/** Partial update: any subset of the create fields except id. Status follows the lifecycle. */
export const CertificatesUpdateSchema = CertificatesCreateSchema.omit({ id: true }).partial();
export type CertificatesUpdateReq = z.infer<typeof CertificatesUpdateSchema>;

const timestamp = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 timestamp' }).transform((s) => new Date(s));

/** Query parameters of GET /api/v1/certificates. */
export const CertificatesListSchema = z.strictObject({
  status: z.enum(certificateStatuses).optional(),
  environment: z.string().max(50).optional(),
  owner_id: refId.optional(),
  team_id: refId.optional(),
  issuer_id: refId.optional(),
  profile_id: refId.optional(),
  agent_id: refId.optional(),
  expires_before: timestamp.optional(),
  expires_after: timestamp.optional(),
  created_after: timestamp.optional(),
  updated_after: timestamp.optional(),
  /** A field, or -field for descending: created_at (default), updated_at, expires_at, name, common_name. */
  sort: z
    .string()
    .regex(new RegExp(`^-?(${sortColumns.join('|')})$`), `must be one of ${sortColumns.join(', ')}, optionally prefixed by -`)
    .optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  per_page: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
  /** Comma-separated response fields. */
  fields: z.string().max(1024).optional(),
  /** "false" skips the count (faster on very large inventories); total is then null. */
  include_total: z.enum(['true', 'false']).optional(),
});
export type CertificatesListReq = z.infer<typeof CertificatesListSchema>;

const at = z.iso.datetime({ offset: true });

export const CertificateSchema = z.object({
  id: z.string(),
  name: z.string(),
  common_name: z.string(),
  sans: z.array(z.string()),
  environment: z.string(),
  owner_id: z.string(),
  team_id: z.string(),
  issuer_id: z.string(),
  renewal_policy_id: z.string(),
  certificate_profile_id: z.string().nullable(),
  target_ids: z.array(z.string()),
  status: z.enum(certificateStatuses),
  expires_at: at.nullable().describe('null until a certificate has been issued'),
  tags: z.record(z.string(), z.string()),
  last_renewal_at: at.nullable(),
  last_deployment_at: at.nullable(),
  revoked_at: at.nullable(),
  revocation_reason: z.string().nullable(),
  source: z.string(),
  created_at: at,
  updated_at: at,
});

export const CertificateVersionSchema = z.object({
  id: z.string(),
  certificate_id: z.string(),
  serial_number: z.string().describe('lowercase hex, no padding'),
  not_before: at,
  not_after: at,
  fingerprint_sha256: z.string(),
  pem_chain: z.string(),
  key_algorithm: z.string(),
  key_size: z.number().int(),
  created_at: at,
});

export const DeploymentTargetSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  agent_id: z.string(),
  config: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  created_at: at,
  updated_at: at,
  /** The latest deployment of this certificate to this target (null: never deployed there). */
  last_deployment: z
    .object({
      job_id: z.string(),
      status: z.string(),
      attempts: z.number().int(),
      error: z.string().nullable(),
      completed_at: at.nullable(),
      updated_at: at,
      report: DeploymentReportSchema.nullable().describe("what the agent's connector did, as it reported it"),
    })
    .nullable(),
});

export const CertificatesCsrSchema = z.strictObject({
  /** PKCS#10 request in PEM ("-----BEGIN CERTIFICATE REQUEST-----"). */
  csr_pem: z.string().min(1, 'must not be empty').max(65_536, 'must be at most 64 KiB'),
});
export type CertificatesCsrReq = z.infer<typeof CertificatesCsrSchema>;

export const IssuedCertificateSchema = z.object({
  certificate_id: z.string(),
  version_id: z.string(),
  serial_number: z.string().describe('lowercase hex, no padding'),
  not_before: at,
  not_after: at,
  fingerprint_sha256: z.string(),
  certificate_pem: z.string(),
  chain_pem: z.string().describe('the issuing CA certificate'),
  pem_chain: z.string().describe('certificate_pem followed by chain_pem'),
});

/** 202 for a certificate whose issuer is an external CA (ACME): a Signing job will issue it. */
export const IssuingSchema = z.object({
  status: z.literal('issuing'),
  certificate_id: z.string(),
  job_id: z.string().describe('the Signing job: GET /api/v1/jobs/{job_id}; the certificate then appears in /versions'),
});

/** Bulk reassignment: the certificates listed get this owner (and team, if given). */
export const BulkReassignSchema = z.strictObject({
  certificate_ids: z.array(refId).min(1).max(100_000),
  owner_id: refId,
  team_id: refId.optional(),
});
export type BulkReassignReq = z.infer<typeof BulkReassignSchema>;
