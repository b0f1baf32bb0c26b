/** Public PKI endpoints: the CRL of each local issuer (DER, RFC 5280), with ETag and caching. */
import { Errors } from '../../../errors.ts';
import type { CrlService } from '../../../services/pki/crl.ts';
import type { RouteDefinition } from '../../router.ts';

export function pkiRoutes(deps: { crls: CrlService }): RouteDefinition[] {
  return [
    {
      method: 'GET',
      path: '/.well-known/pki/crl/:issuer_id',
      summary: "An issuer's CRL (DER); strong ETag, If-None-Match -> 304",
      response: { contentType: 'application/pkix-crl', description: 'DER-encoded X.509 v2 CRL' },
      access: 'public',
      quiet: true,
      handler: async (ctx) => {
        const issuerId = ctx.param('issuer_id');
        const crl = await deps.crls.get(issuerId);
        if (!crl) throw Errors.notFound(`no local issuer ${issuerId}`);
        // Caches may keep it for 5 minutes; revocations reach the CRL within seconds.
        const maxAge = Math.max(0, Math.min(300, Math.floor((crl.nextUpdate.getTime() - Date.now()) / 1000)));
        return {
          status: 200,
          etag: `"${crl.hash}"`,
          headers: { 'Cache-Control': `public, max-age=${maxAge}, must-revalidate` },
          raw: { contentType: 'application/pkix-crl', payload: crl.der },
        };
      },
    },
  ];
}
