/**
 * /api/v1/acme/eab-keys: External Account Binding keys for the ACME server (RFC 8555 7.3.4).
 * Admin only. The HMAC key is returned once, at creation; it is stored encrypted.
 */
import { z } from 'zod';
import type { AcmeServer } from '../../../acme/server.ts';
import { presentEabKey } from '../../presenters/acme-eab-key.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { EabKeyCreatedSchema, EabKeyCreateSchema, EabKeySchema } from './schema.ts';

export function acmeEabKeyRoutes(deps: { acme: AcmeServer }): RouteDefinition[] {
  const { acme } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/acme/eab-keys',
      summary: 'Create an ACME External Account Binding key; its HMAC key is returned once',
      response: { status: 201, schema: EabKeyCreatedSchema },
      access: 'keys.manage',
      body: EabKeyCreateSchema,
      handler: async (ctx) => {
        const { key, hmacKey } = await acme.eabKeys.create(ctx.principal, ctx.body.name);
        let directoryUrl = '/acme/directory';
        try {
          directoryUrl = acme.urls.directory(acme.urls.origin(ctx.host));
        } catch {
          // No usable Host header: the relative path still tells the operator where to go.
        }
        return {
          status: 201,
          headers: { Location: `/api/v1/acme/eab-keys/${key.id}`, 'Cache-Control': 'no-store' },
          json: { ...presentEabKey(key), hmac_key: hmacKey, directory_url: directoryUrl },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/acme/eab-keys',
      summary: 'List ACME EAB keys (include_revoked=true for all); never their HMAC keys',
      query: z.strictObject({ include_revoked: z.enum(['true', 'false']).optional() }),
      response: { schema: z.object({ data: z.array(EabKeySchema), total: z.number().int() }) },
      access: 'keys.manage',
      handler: async (ctx) => {
        const rows = await acme.eabKeys.list(ctx.queryParams.include_revoked === 'true');
        return { status: 200, json: { data: rows.map(presentEabKey), total: rows.length } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/acme/eab-keys/:id',
      summary: 'Get one ACME EAB key (and the account it is bound to)',
      response: { schema: EabKeySchema },
      access: 'keys.manage',
      handler: async (ctx) => ({ status: 200, json: presentEabKey(await acme.eabKeys.get(ctx.param('id'))) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/acme/eab-keys/:id',
      summary: 'Revoke an ACME EAB key (idempotent): it binds no new account; one it bound stays',
      response: { status: 204 },
      access: 'keys.manage',
      handler: async (ctx) => {
        await acme.eabKeys.revoke(ctx.principal, ctx.param('id'));
        return { status: 204 };
      },
    }),
  ];
}
