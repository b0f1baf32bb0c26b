import type { CertificateRow, CertificateVersionRow } from '../../domain/certificates.ts';
import { pick } from './row.ts';

export const certificateFields = [
  'id',
  'name',
  'common_name',
  'sans',
  'environment',
  'owner_id',
  'team_id',
  'issuer_id',
  'renewal_policy_id',
  'certificate_profile_id',
  'target_ids',
  'status',
  'expires_at',
  'tags',
  'last_renewal_at',
  'last_deployment_at',
  'revoked_at',
  'revocation_reason',
  'source',
  'created_at',
  'updated_at',
] as const;

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/**
 * One object literal with a fixed shape: a list page presents 50 of these per request, and the
 * literal is ~2x faster than copying fields generically (bench/http/json-envelope).
 */
export function presentCertificate(row: CertificateRow): Record<string, unknown> {
  const expires = row.expires_at;
  return {
    id: row.id,
    name: row.name,
    common_name: row.common_name,
    sans: row.sans,
    environment: row.environment,
    owner_id: row.owner_id,
    team_id: row.team_id,
    issuer_id: row.issuer_id,
    renewal_policy_id: row.renewal_policy_id,
    certificate_profile_id: row.certificate_profile_id,
    target_ids: row.target_ids,
    status: row.status,
    // Not issued yet: stored as 'infinity' (see migrations/0002), shown as null.
    expires_at: expires instanceof Date && Number.isFinite(expires.getTime()) ? expires.toISOString() : null,
    tags: row.tags,
    last_renewal_at: iso(row.last_renewal_at),
    last_deployment_at: iso(row.last_deployment_at),
    revoked_at: iso(row.revoked_at),
    revocation_reason: row.revocation_reason,
    source: row.source,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export const certificateVersionFields = [
  'id',
  'certificate_id',
  'serial_number',
  'not_before',
  'not_after',
  'fingerprint_sha256',
  'pem_chain',
  'key_algorithm',
  'key_size',
  'created_at',
] as const;

export function presentCertificateVersion(row: CertificateVersionRow): Record<string, unknown> {
  return pick(row, certificateVersionFields);
}
