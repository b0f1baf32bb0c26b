/** /api/v1/auth/keys: create (the key is shown once), list, get, revoke. Admin only. */
import { z } from 'zod';
import type { ApiKeyService } from '../../../services/auth/api-keys.ts';
import { presentApiKey } from '../../presenters/api-key.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { ApiKeyCreatedSchema, ApiKeySchema, KeysCreateSchema } from './schema.ts';

export function authKeyRoutes(deps: { apiKeys: ApiKeyService }): RouteDefinition[] {
  const { apiKeys } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/auth/keys',
      summary: 'Create an API key; the key is returned once, only its SHA-256 is stored',
      response: { status: 201, schema: ApiKeyCreatedSchema },
      access: 'keys.manage',
      body: KeysCreateSchema,
      handler: async (ctx) => {
        const input = ctx.body;
        const { key, secret } = await apiKeys.create(
          { name: input.name, role: input.role, expiresAt: input.expires_at ? new Date(input.expires_at) : undefined },
          ctx.principal,
        );
        return {
          status: 201,
          headers: { Location: `/api/v1/auth/keys/${key.id}` },
          json: { ...presentApiKey(key), key: secret },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/auth/keys',
      summary: 'List live API keys (include_revoked=true for all)',
      query: z.strictObject({ include_revoked: z.enum(['true', 'false']).optional() }),
      response: { schema: z.object({ data: z.array(ApiKeySchema), total: z.number().int() }) },
      access: 'keys.manage',
      etag: true,
      handler: async (ctx) => {
        const rows = await apiKeys.list(ctx.query.get('include_revoked') === 'true');
        return { status: 200, json: { data: rows.map(presentApiKey), total: rows.length } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/auth/keys/:id',
      summary: 'Get one API key',
      response: { schema: ApiKeySchema },
      access: 'keys.manage',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: presentApiKey(await apiKeys.get(ctx.param('id'))) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/auth/keys/:id',
      summary: 'Revoke an API key (idempotent); it stops working at once on this replica, within 30 s on others',
      response: { status: 204 },
      access: 'keys.manage',
      handler: async (ctx) => {
        await apiKeys.revoke(ctx.param('id'), ctx.principal);
        return { status: 204 };
      },
    }),
  ];
}
