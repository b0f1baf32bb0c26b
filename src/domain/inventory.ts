/**
 * The simple inventory resources (teams, owners, issuers, renewal policies, certificate
 * profiles, deployment targets): their kinds, the names used in messages and audit events, and
 * the id prefix of server-generated ids. Tables: src/db/inventory-tables.ts; routes:
 * src/http/routes/<resource>/schema.ts.
 */
export const inventoryKinds = {
  teams: { subject: 'team', idPrefix: 'team' },
  owners: { subject: 'owner', idPrefix: 'owner' },
  issuers: { subject: 'issuer', idPrefix: 'iss' },
  renewal_policies: { subject: 'renewal policy', idPrefix: 'rp' },
  certificate_profiles: { subject: 'certificate profile', idPrefix: 'prof' },
  deployment_targets: { subject: 'deployment target', idPrefix: 'target' },
} as const satisfies Record<string, { subject: string; idPrefix: string }>;
export type InventoryKind = keyof typeof inventoryKinds;

export type Row = Record<string, unknown> & { id: string };
