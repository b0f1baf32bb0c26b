/** /api/v1/audit: filtered keyset list (newest first), one event, and the NDJSON export. */
import type { AuditFilter } from '../../../domain/audit.ts';
import type { AuditLog } from '../../../services/audit/audit-log.ts';
import type { AuditWriter } from '../../../services/audit/writer.ts';
import { auditEventJsonLine, presentAuditEvent } from '../../presenters/audit-event.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { listEnvelope } from '../common/responses.ts';
import { AuditCheckpointSchema, AuditEventSchema, AuditExportSchema, AuditListSchema, type AuditExportReq } from './schema.ts';

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
    route({
      method: 'GET',
      path: '/api/v1/audit',
      summary: 'Audit events, newest first: filters, per_page, keyset cursor',
      query: AuditListSchema,
      response: { schema: listEnvelope(AuditEventSchema, { cursor: true, page: false }) },
      access: 'audit.read',
      etag: true,
      handler: async (ctx) => {
        const q = ctx.queryParams;
        const perPage = q.per_page ?? 50;
        const { rows, total, nextCursor } = await auditLog.list(toFilter(q), perPage, q.cursor);
        const body: Record<string, unknown> = { data: rows.map(presentAuditEvent), total, per_page: perPage };
        if (nextCursor) body.next_cursor = nextCursor;
        return { status: 200, json: body };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/export',
      summary: 'Stream matching audit events as NDJSON, oldest first, at constant memory',
      query: AuditExportSchema,
      response: { contentType: 'application/x-ndjson', schema: AuditEventSchema, description: 'one event (as in GET /api/v1/audit/{id}) per line' },
      access: 'audit.read',
      handler: (ctx) => {
        const filter = toFilter(ctx.queryParams);
        // The slot is taken now, so a 429 comes before any 200 head; it is given back when the
        // stream ends, fails, or never starts.
        const exporting = auditLog.beginExport(ctx.principal?.keyId ?? 'anonymous', filter);
        return {
          status: 200,
          headers: { 'Content-Disposition': 'attachment; filename="certfleet-audit.ndjson"' },
          stream: {
            contentType: 'application/x-ndjson',
            release: exporting.release,
            produce: async (write) => {
              const exported = await exporting.run((rows) => {
                let chunk = '';
                for (const row of rows) chunk += `${auditEventJsonLine(row)}\n`;
                return write(chunk);
              });
              // The last line says the export is complete: a transfer cut short (a stalled
              // reader, a database failure) ends without it.
              await write(`${JSON.stringify({ complete: true, events: exported })}\n`);
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
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/checkpoint',
      summary: 'The chain head (seq, row_hash): keep it outside the database; `certfleet audit verify --checkpoint` detects a deleted tail',
      response: { schema: AuditCheckpointSchema },
      access: 'audit.read',
      handler: async () => ({ status: 200, json: await auditLog.checkpoint() }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/audit/:id',
      summary: 'Get one audit event',
      response: { schema: AuditEventSchema },
      access: 'audit.read',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: presentAuditEvent(await auditLog.get(ctx.param('id'))) }),
    }),
  ];
}
