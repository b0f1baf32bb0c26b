/**
 * Discovery: an agent's scan reports (POST /api/v1/agents/{id}/discoveries, its key only) and the
 * operators' view: /api/v1/discovered-certificates (list, get, claim, dismiss),
 * /api/v1/discovery-scans and /api/v1/discovery-summary.
 */
import type { DiscoveredCertificateRow, DiscoveryScanRow } from '../../../domain/discovery.ts';
import type { DiscoveryService } from '../../../services/fleet/discovery.ts';
import { pick } from '../../presenters/row.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { listEnvelope } from '../common/responses.ts';
import {
  ClaimSchema,
  DiscoveredCertificateSchema,
  DiscoveredListSchema,
  DiscoveryReportSchema,
  DiscoveryScanSchema,
  DiscoverySummarySchema,
  ScansListSchema,
  SummaryQuerySchema,
} from './schema.ts';

const certificateFields = Object.keys(DiscoveredCertificateSchema.shape);
const scanFields = Object.keys(DiscoveryScanSchema.shape);
const present = (row: DiscoveredCertificateRow) => pick(row, certificateFields);
const presentScan = (row: DiscoveryScanRow) => pick(row, scanFields);
const listed = <T>(rows: T[], perPage: number, nextCursor: string | undefined, show: (row: T) => unknown) => ({
  data: rows.map(show),
  per_page: perPage,
  ...(nextCursor ? { next_cursor: nextCursor } : {}),
});

export function discoveryRoutes(deps: { discovery: DiscoveryService }): RouteDefinition[] {
  const { discovery } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/agents/:id/discoveries',
      summary: "An agent's filesystem scan: certificates found (PEM, at most 1,000 per report) and errors; upserted by fingerprint, agent and path",
      response: { status: 202, schema: DiscoveryScanSchema },
      access: 'agent.self',
      body: DiscoveryReportSchema,
      handler: async (ctx) => ({
        status: 202,
        json: presentScan(await discovery.report(ctx.principal, ctx.param('id'), ctx.body)),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/discovered-certificates',
      summary: 'List discovered certificates by id: filters agent_id, status; keyset cursor',
      query: DiscoveredListSchema,
      response: { schema: listEnvelope(DiscoveredCertificateSchema, { cursor: true, page: false }).omit({ total: true }) },
      access: 'agents.read',
      etag: true,
      handler: async (ctx) => {
        const { per_page, cursor, ...filter } = ctx.queryParams;
        const perPage = per_page ?? 50;
        const { rows, nextCursor } = await discovery.list(filter, perPage, cursor);
        return { status: 200, json: listed(rows, perPage, nextCursor, present) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/discovered-certificates/:id',
      summary: 'Get a discovered certificate',
      response: { schema: DiscoveredCertificateSchema },
      access: 'agents.read',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: present(await discovery.get(ctx.param('id'))) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/discovered-certificates/:id/claim',
      summary: 'Link a discovered certificate to a managed certificate (status Managed)',
      response: { schema: DiscoveredCertificateSchema },
      access: 'agents.manage',
      body: ClaimSchema,
      handler: async (ctx) => ({
        status: 200,
        json: present(await discovery.claim(ctx.principal, ctx.param('id'), ctx.body.managed_certificate_id)),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/discovered-certificates/:id/dismiss',
      summary: 'Dismiss a discovered certificate (status Dismissed; later scans keep it dismissed)',
      response: { schema: DiscoveredCertificateSchema },
      access: 'agents.manage',
      handler: async (ctx) => ({ status: 200, json: present(await discovery.dismiss(ctx.principal, ctx.param('id'))) }),
    }),
    route({
      method: 'GET',
      path: '/api/v1/discovery-scans',
      summary: 'List discovery scans by id: filter agent_id; keyset cursor',
      query: ScansListSchema,
      response: { schema: listEnvelope(DiscoveryScanSchema, { cursor: true, page: false }).omit({ total: true }) },
      access: 'agents.read',
      etag: true,
      handler: async (ctx) => {
        const { per_page, cursor, agent_id } = ctx.queryParams;
        const perPage = per_page ?? 50;
        const { rows, nextCursor } = await discovery.listScans(agent_id, perPage, cursor);
        return { status: 200, json: listed(rows, perPage, nextCursor, presentScan) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/discovery-summary',
      summary: 'Discovered certificates by status (optionally for one agent_id)',
      query: SummaryQuerySchema,
      response: { schema: DiscoverySummarySchema },
      access: 'agents.read',
      handler: async (ctx) => ({ status: 200, json: await discovery.summary((ctx.queryParams as { agent_id?: string }).agent_id) }),
    }),
  ];
}
