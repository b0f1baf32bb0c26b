import type { Role } from './roles.ts';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  key_hash: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  /** The agent an `agent` key acts for; null for people and scripts. */
  agent_id: string | null;
}
