/**
 * Public PKI endpoints: the CRL of each local issuer (DER, RFC 5280), with ETag and caching; the
 * HTTP-01 responses of the ACME issuer (RFC 8555 8.3), for CAs validating names whose
 * /.well-known/acme-challenge/ path reaches certfleet (directly or by redirect).
 */
import { Errors } from '../../../errors.ts';
import type { CrlService } from '../../../services/pki/crl.ts';
import { route, type RouteDefinition } from '../../router.ts';

/** base64url tokens (RFC 8555 8.3: at least 128 bits of entropy); anything else is not ours. */
const tokenPattern = /^[A-Za-z0-9_-]{16,256}$/;

/** The key authorizations the ACME issuer publishes for HTTP-01 (src/services/issuers/acme-issuer.ts). */
export interface ChallengeResponses {
  get(token: string): Promise<string | undefined>;
}

export function pkiRoutes(deps: { crls: CrlService; acmeChallenges: ChallengeResponses }): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/.well-known/acme-challenge/:token',
      summary: 'HTTP-01 key authorization for a challenge the ACME issuer is answering (404 otherwise)',
      response: { contentType: 'application/octet-stream', description: 'the key authorization (token.thumbprint)' },
      access: 'public',
      handler: async (ctx) => {
        const token = ctx.param('token');
        const keyAuthorization = tokenPattern.test(token) ? await deps.acmeChallenges.get(token) : undefined;
        if (!keyAuthorization) throw Errors.notFound('no such ACME challenge');
        return { status: 200, headers: { 'Cache-Control': 'no-store' }, raw: { contentType: 'application/octet-stream', payload: keyAuthorization } };
      },
    }),
    route({
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
    }),
  ];
}
