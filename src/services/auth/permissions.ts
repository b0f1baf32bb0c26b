/**
 * Roles and what they may do: the one table that maps roles to permissions. Routes name the
 * permission they need; a 403 names the missing one.
 */

import type { Role } from '../../domain/roles.ts';

export const permissions = [
  'keys.manage',
  'inventory.read',
  'inventory.write',
  'certificates.read',
  'certificates.write',
  'certificates.issue',
  'certificates.revoke',
  'agents.read',
  'agents.manage',
  'jobs.read',
  'jobs.manage',
  'audit.read',
  /** Run-now for scheduler loops (admin only). */
  'scheduler.manage',
  /** An agent acting on /api/v1/agents/{its own id}/... only. */
  'agent.self',
] as const;
export type Permission = (typeof permissions)[number];

const readAll: Permission[] = ['inventory.read', 'certificates.read', 'agents.read', 'jobs.read', 'audit.read'];

export const rolePermissions: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(permissions.filter((p) => p !== 'agent.self')),
  operator: new Set<Permission>([
    ...readAll,
    'inventory.write',
    'certificates.write',
    'certificates.issue',
    'certificates.revoke',
    'agents.manage',
    'jobs.manage',
  ]),
  viewer: new Set<Permission>(readAll),
  agent: new Set<Permission>(['agent.self']),
};

/** Who is calling: built once per key and cached with it. */
export interface Principal {
  keyId: string;
  name: string;
  role: Role;
  permissions: ReadonlySet<Permission>;
  /** For agent keys: the one agent this key may act for. */
  agentId?: string | undefined;
  /** Who acts, in the audit trail, when not an API key: an ACME account (src/acme). */
  actorType?: 'ACMEAccount' | undefined;
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has(permission);
}
