import type { CertificateRow, CertificateVersionRow } from '../../db/certificates.ts';
import { pick } from './row.ts';

export const certificateFields = [
  'id', 'name', 'common_name', 'sans', 'environment', 'owner_id', 'team_id', 'issuer_id', 'renewal_policy_id',
  'certificate_profile_id', 'target_ids', 'status', 'expires_at', 'tags', 'last_renewal_at', 'last_deployment_at',
  'revoked_at', 'revocation_reason', 'source', 'created_at', 'updated_at',
] as const;

export function presentCertificate(row: CertificateRow): Record<string, unknown> {
  const out = pick(row, certificateFields);
  // Not issued yet: stored as 'infinity' (see migrations/0002), shown as null.
  out.expires_at = row.expires_at instanceof Date && Number.isFinite(row.expires_at.getTime()) ? row.expires_at.toISOString() : null;
  return out;
}

export const certificateVersionFields = [
  'id', 'certificate_id', 'serial_number', 'not_before', 'not_after', 'fingerprint_sha256', 'pem_chain',
  'key_algorithm', 'key_size', 'created_at',
] as const;

export function presentCertificateVersion(row: CertificateVersionRow): Record<string, unknown> {
  return pick(row, certificateVersionFields);
}
