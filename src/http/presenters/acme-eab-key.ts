import type { AcmeEabKeyRow } from '../../domain/acme.ts';

/** An EAB key as listed: never its HMAC key. */
export function presentEabKey(row: AcmeEabKeyRow) {
  return {
    id: row.id,
    name: row.name,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    revoked_at: row.revoked_at?.toISOString() ?? null,
    account_id: row.account_id,
    bound_at: row.bound_at?.toISOString() ?? null,
  };
}
