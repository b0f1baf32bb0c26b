/** Revocation: one certificate, or every certificate matching criteria (no row cap). */
import type { RevocationService } from '../../../services/pki/revocation.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { BulkRevokedSchema, BulkRevokeSchema, RevokedSchema, RevokeSchema } from './schema.ts';

export function revocationRoutes(deps: { revocation: RevocationService }): RouteDefinition[] {
  const { revocation } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/certificates/:id/revoke',
      summary: 'Revoke a certificate (every issued version) with an RFC 5280 reason; the CRL follows within seconds',
      response: { schema: RevokedSchema },
      access: 'certificates.revoke',
      body: RevokeSchema,
      handler: async (ctx) => {
        const reason = ctx.body?.reason ?? 'unspecified';
        const id = ctx.param('id');
        const { revokedSerials } = await revocation.revoke(ctx.principal, id, reason);
        return { status: 200, json: { status: 'revoked', certificate_id: id, reason, revoked_serials: revokedSerials } };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/certificates/bulk-revoke',
      summary: 'Revoke every certificate matching the criteria (set-based, no row cap); Revoked/Archived ones are skipped',
      response: { schema: BulkRevokedSchema },
      access: 'certificates.revoke',
      body: BulkRevokeSchema,
      handler: async (ctx) => {
        const { reason, ...criteria } = ctx.body;
        return { status: 200, json: await revocation.bulkRevoke(ctx.principal, criteria, reason) };
      },
    }),
  ];
}
