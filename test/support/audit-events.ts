/**
 * A resource's audit events as the API serves them (GET /api/v1/audit), oldest first. The API
 * chains every committed event before it reads (writers do not wait for the chain), so this is
 * how a test sees the events of the writes it just made; reading audit_events in SQL would race
 * the chain pass.
 */
import type { TestServer } from './server.ts';

export interface ServedAuditEvent {
  seq: number;
  action: string;
  actor_type: string;
  resource_id: string;
  details: Record<string, unknown>;
}

export async function auditEventsOf(server: TestServer, ...resourceIds: string[]): Promise<ServedAuditEvent[]> {
  const events: ServedAuditEvent[] = [];
  for (const id of resourceIds) {
    const res = await server.request(`/api/v1/audit?resource_id=${encodeURIComponent(id)}&per_page=100`);
    if (res.status !== 200) throw new Error(`GET /api/v1/audit answered ${res.status}: ${await res.text()}`);
    events.push(...((await res.json()) as { data: ServedAuditEvent[] }).data);
  }
  return events.sort((a, b) => a.seq - b.seq);
}
