import { z } from 'zod';
import { discoveryStatuses } from '../../../domain/discovery.ts';
import { refId } from '../common/fields.ts';

/** An agent's scan report: the certificates themselves; every other field is derived by the server. */
export const DiscoveryReportSchema = z.strictObject({
  /** Directories the scan walked. */
  directories: z.array(z.string().min(1).max(4096)).max(64).default([]),
  /** At most 1,000 per report: agents send larger scans in several reports. */
  certificates: z
    .array(
      z.strictObject({
        /** One PEM CERTIFICATE block (DER files are sent PEM-encoded, with source_format DER). */
        pem_data: z.string().min(1).max(65_536),
        source_path: z.string().min(1).max(4096),
        source_format: z.enum(['PEM', 'DER']).default('PEM'),
      }),
    )
    .max(1000),
  /** Files the scan could not read or parse, one line each. */
  errors: z.array(z.string().max(1000)).max(1000).default([]),
  scan_duration_ms: z.number().int().min(0).max(86_400_000).default(0),
});
export type DiscoveryReportReq = z.infer<typeof DiscoveryReportSchema>;

export const DiscoveredListSchema = z.strictObject({
  agent_id: refId.optional(),
  status: z.enum(discoveryStatuses).optional(),
  per_page: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});
export type DiscoveredListReq = z.infer<typeof DiscoveredListSchema>;

export const ScansListSchema = z.strictObject({
  agent_id: refId.optional(),
  per_page: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});
export type ScansListReq = z.infer<typeof ScansListSchema>;

export const SummaryQuerySchema = z.strictObject({ agent_id: refId.optional() });

export const ClaimSchema = z.strictObject({ managed_certificate_id: refId });
export type ClaimReq = z.infer<typeof ClaimSchema>;

const at = z.iso.datetime({ offset: true });
export const DiscoveredCertificateSchema = z.object({
  id: z.string(),
  fingerprint_sha256: z.string(),
  common_name: z.string(),
  sans: z.array(z.string()),
  serial_number: z.string(),
  issuer_dn: z.string(),
  subject_dn: z.string(),
  not_before: at,
  not_after: at,
  key_algorithm: z.string(),
  key_size: z.number().int(),
  is_ca: z.boolean(),
  pem_data: z.string(),
  source_path: z.string(),
  source_format: z.enum(['PEM', 'DER']),
  agent_id: z.string(),
  discovery_scan_id: z.string().nullable(),
  managed_certificate_id: z.string().nullable(),
  status: z.enum(discoveryStatuses),
  first_seen_at: at,
  last_seen_at: at,
  dismissed_at: at.nullable(),
});

export const DiscoveryScanSchema = z.object({
  id: z.string(),
  agent_id: z.string(),
  directories: z.array(z.string()),
  certificates_found: z.number().int(),
  certificates_new: z.number().int(),
  errors_count: z.number().int(),
  errors: z.array(z.string()),
  scan_duration_ms: z.number().int(),
  started_at: at,
  completed_at: at,
});

export const DiscoverySummarySchema = z.object({ Unmanaged: z.number().int(), Managed: z.number().int(), Dismissed: z.number().int() });
