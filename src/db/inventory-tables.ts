/**
 * The tables behind the simple inventory resources: columns read and written, jsonb columns,
 * and the constraint names that become 409/400 messages. One repository per kind.
 */
import type { InventoryKind } from '../domain/inventory.ts';
import type { Pool } from './pool.ts';
import { createTableRepository, type TableRepository, type TableSpec } from './table-repository.ts';

const timestamps = ['created_at', 'updated_at'] as const;

export const inventoryTables: Readonly<Record<InventoryKind, TableSpec>> = {
  teams: {
    table: 'teams',
    subject: 'team',
    columns: ['id', 'name', 'description', ...timestamps],
    constraints: {
      unique: { teams_name_key: 'name' },
      referencedBy: {
        owners_team_id_fkey: 'owners',
        certificates_team_id_fkey: 'certificates',
        certificate_profiles_acme_team_id_fkey: 'certificate profiles',
      },
    },
  },
  owners: {
    table: 'owners',
    subject: 'owner',
    columns: ['id', 'name', 'email', 'team_id', ...timestamps],
    constraints: {
      references: { owners_team_id_fkey: 'team_id' },
      referencedBy: { certificates_owner_id_fkey: 'certificates', certificate_profiles_acme_owner_id_fkey: 'certificate profiles' },
    },
  },
  issuers: {
    table: 'issuers',
    subject: 'issuer',
    columns: ['id', 'name', 'type', 'config', 'enabled', ...timestamps],
    jsonColumns: ['config'],
    constraints: {
      unique: { issuers_name_key: 'name' },
      referencedBy: { certificates_issuer_id_fkey: 'certificates', certificate_profiles_acme_issuer_id_fkey: 'certificate profiles' },
    },
  },
  renewal_policies: {
    table: 'renewal_policies',
    subject: 'renewal policy',
    columns: ['id', 'name', 'renewal_window_days', 'auto_renew', 'max_retries', 'retry_interval_seconds', 'alert_thresholds_days', ...timestamps],
    constraints: {
      unique: { renewal_policies_name_key: 'name' },
      referencedBy: { certificates_renewal_policy_id_fkey: 'certificates', certificate_profiles_acme_renewal_policy_id_fkey: 'certificate profiles' },
    },
  },
  certificate_profiles: {
    table: 'certificate_profiles',
    subject: 'certificate profile',
    columns: [
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
      ...timestamps,
    ],
    jsonColumns: ['allowed_key_algorithms'],
    constraints: {
      unique: { certificate_profiles_name_key: 'name' },
      references: {
        certificate_profiles_acme_issuer_id_fkey: 'acme_issuer_id',
        certificate_profiles_acme_owner_id_fkey: 'acme_owner_id',
        certificate_profiles_acme_team_id_fkey: 'acme_team_id',
        certificate_profiles_acme_renewal_policy_id_fkey: 'acme_renewal_policy_id',
      },
      referencedBy: { certificates_certificate_profile_id_fkey: 'certificates' },
    },
  },
  deployment_targets: {
    table: 'deployment_targets',
    subject: 'deployment target',
    columns: ['id', 'name', 'type', 'agent_id', 'config', 'enabled', ...timestamps],
    jsonColumns: ['config'],
    constraints: {
      unique: { deployment_targets_agent_name_key: 'name' },
      references: { deployment_targets_agent_id_fkey: 'agent_id' },
      referencedBy: { certificate_target_mappings_target_id_fkey: 'certificates' },
    },
  },
};

export function createInventoryRepositories(pool: Pool): Record<InventoryKind, TableRepository> {
  return Object.fromEntries(Object.entries(inventoryTables).map(([kind, spec]) => [kind, createTableRepository(pool, spec)])) as Record<
    InventoryKind,
    TableRepository
  >;
}
