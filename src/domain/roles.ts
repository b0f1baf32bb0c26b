/** The roles an API key can have (what each may do: src/services/auth/permissions.ts). */
export const roles = ['admin', 'operator', 'viewer', 'agent'] as const;
export type Role = (typeof roles)[number];
