/**
 * The six routes of a simple inventory resource: list, get, create, PUT and PATCH (both partial
 * updates, as in certctl), delete. Lists are paged (`page`, `per_page` 1..500) with an exact
 * total, ordered by id, with ETags.
 */
import type { ZodType } from 'zod';
import { listEnvelope } from './responses.ts';
import type { Row } from '../../../domain/inventory.ts';
import type { Permission } from '../../../services/auth/permissions.ts';
import type { ResourceService } from '../../../services/inventory/resource-service.ts';
import { route, type Handler, type RouteDefinition } from '../../router.ts';
import { pageParams, pageQuery } from './pagination.ts';

export interface CrudResource {
  /** Collection path, e.g. /api/v1/teams */
  path: string;
  service: ResourceService;
  createSchema: ZodType<Record<string, unknown>>;
  updateSchema: ZodType<Record<string, unknown>>;
  present: (row: Row) => Record<string, unknown>;
  read: Permission;
  write: Permission;
  /** Singular noun for summaries: "team". */
  noun: string;
  responseSchema: ZodType;
}

export function crudRoutes(r: CrudResource): RouteDefinition[] {
  const item = `${r.path}/:id`;
  const update: Handler<Record<string, unknown>> = async (ctx) => ({
    status: 200,
    json: r.present(await r.service.update(ctx.principal, ctx.param('id'), ctx.body)),
  });
  return [
    route({
      method: 'GET',
      path: r.path,
      summary: `List ${r.noun}s, ordered by id (page, per_page 1..500)`,
      query: pageQuery,
      response: { schema: listEnvelope(r.responseSchema) },
      access: r.read,
      etag: true,
      handler: async (ctx) => {
        const { page, perPage } = pageParams(ctx.query);
        const { rows, total } = await r.service.list(page, perPage);
        return { status: 200, json: { data: rows.map(r.present), total, page, per_page: perPage } };
      },
    }),
    route({
      method: 'GET',
      path: item,
      summary: `Get a ${r.noun}`,
      response: { schema: r.responseSchema },
      access: r.read,
      etag: true,
      handler: async (ctx) => ({ status: 200, json: r.present(await r.service.get(ctx.param('id'))) }),
    }),
    route({
      method: 'POST',
      path: r.path,
      summary: `Create a ${r.noun} (201 with Location)`,
      response: { status: 201, schema: r.responseSchema },
      access: r.write,
      body: r.createSchema,
      handler: async (ctx) => {
        const row = await r.service.create(ctx.principal, ctx.body);
        return { status: 201, headers: { Location: `${r.path}/${row.id}` }, json: r.present(row) };
      },
    }),
    route({
      method: 'PUT',
      path: item,
      summary: `Update a ${r.noun}: only the fields sent change`,
      response: { schema: r.responseSchema },
      access: r.write,
      body: r.updateSchema,
      handler: update,
    }),
    route({
      method: 'PATCH',
      path: item,
      summary: `Update a ${r.noun} (same as PUT: a partial update)`,
      response: { schema: r.responseSchema },
      access: r.write,
      body: r.updateSchema,
      handler: update,
    }),
    route({
      method: 'DELETE',
      path: item,
      summary: `Delete a ${r.noun}; 409 while anything still references it`,
      response: { status: 204 },
      access: r.write,
      handler: async (ctx) => {
        await r.service.delete(ctx.principal, ctx.param('id'));
        return { status: 204 };
      },
    }),
  ];
}
