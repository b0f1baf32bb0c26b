export interface AgentRow {
  id: string;
  name: string;
  hostname: string;
  status: 'Online' | 'Offline' | 'Degraded';
  os: string;
  architecture: string;
  ip_address: string;
  version: string;
  registered_at: Date;
  retired_at: Date | null;
  retired_reason: string | null;
  last_heartbeat_at: Date | null;
}

export interface AgentMetadata {
  hostname?: string | undefined;
  os?: string | undefined;
  architecture?: string | undefined;
  ip_address?: string | undefined;
  version?: string | undefined;
}
