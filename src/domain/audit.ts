export const auditCategories = ['cert_lifecycle', 'auth', 'config', 'fleet'] as const;
export type AuditCategory = (typeof auditCategories)[number];
export const actorTypes = ['APIKey', 'Agent', 'System', 'Anonymous', 'ACMEAccount'] as const;
export type ActorType = (typeof actorTypes)[number];

/** An event as recorded, before it is numbered and chained. */
export interface AuditEventInput {
  actor: string;
  actorType: ActorType;
  action: string;
  resourceType: string;
  resourceId: string;
  details: Record<string, unknown>;
  category: AuditCategory;
}

/** A recorded event. */
export interface AuditEvent extends AuditEventInput {
  seq: number;
  id: string;
  timestamp: Date;
  prevHash: string;
  rowHash: string;
}

/** Columns of `streamRaw`, as the text PostgreSQL sends (the timestamp already ISO 8601). */
export type AuditRawRow = [
  id: string,
  seq: string,
  actor: string,
  actorType: string,
  action: string,
  resourceType: string,
  resourceId: string,
  detailsJson: string,
  timestamp: string,
  category: string,
  prevHash: string,
  rowHash: string,
];

export interface AuditFilter {
  category?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}
