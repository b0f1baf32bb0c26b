/** /api/v1/audit: filtered keyset list (newest first), one event, and the NDJSON export. */
import type { AuditFilter } from '../../../db/audit.ts';
import type { AuditLog } from '../../../services/audit/audit-log.ts';
import type { AuditWriter } from '../../../services/audit/writer.ts';
import { auditEventJsonLine, presentAuditEvent } from '../../presenters/audit-event.ts';
import type { RouteDefinition } from '../../router.ts';
import { AuditExportSchema, AuditListSchema, type AuditExportReq } from './schema.ts';

function toFilter(q: AuditExportReq): AuditFilter {
  return {
    category: q.category,
    actor: q.actor,
    action: q.action,
    resourceType: q.resource_type,
    resourceId: q.resource_id,
    since: q.since,
    until: q.until,
  };
}

export function auditRoutes(deps: { auditLog: AuditLog; audit: AuditWriter }): RouteDefinition[] {
  const { auditLog, audit } = deps;
  return [
    {
      method: 'GET',
      path: '/api/v1/audit',
      access: 'audit.read',
      etag: true,
      handler: async (ctx) => {
        const q = AuditListSchema.parse(Object.fromEntries(ctx.query));
        const perPage = q.per_page ?? 50;
        const { rows, total, nextCursor } = await auditLog.list(toFilter(q), perPage, q.cursor);
        const body: Record<string, unknown> = { data: rows.map(presentAuditEvent), total, per_page: perPage };
        if (nextCursor) body.next_cursor = nextCursor;
        return { status: 200, json: body };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/audit/export',
      access: 'audit.read',
      handler: (ctx) => {
        const filter = toFilter(AuditExportSchema.parse(Object.fromEntries(ctx.query)));
        return {
          status: 200,
          headers: { 'Content-Disposition': 'attachment; filename="certfleet-audit.ndjson"' },
          stream: {
            contentType: 'application/x-ndjson',
            produce: async (write) => {
              const exported = await auditLog.export(filter, (rows) => {
                let chunk = '';
                for (const row of rows) chunk += `${auditEventJsonLine(row)}\n`;
                return write(chunk);
              });
              // Exports are themselves audited: who took a copy of the log, and how much.
              await audit.record(ctx.principal, {
                action: 'audit_exported',
                resourceType: 'audit',
                resourceId: 'export',
                category: 'auth',
                details: { events: exported },
              });
            },
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/audit/:id',
      access: 'audit.read',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: presentAuditEvent(await auditLog.get(ctx.param('id'))) }),
    },
  ];
}
