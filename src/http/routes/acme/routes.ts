/**
 * The ACME server's routes (RFC 8555), unauthenticated at the HTTP level: a request's JWS is its
 * credential (src/acme/requests.ts). They speak ACME through the pipeline's protocol hooks
 * (./protocol.ts): JOSE bodies, problem documents, Replay-Nonce on every POST's response.
 */
import type { AcmeAccountRow } from '../../../domain/acme.ts';
import { payloadObject, type SignerRule } from '../../../acme/requests.ts';
import { AcmeProblems } from '../../../acme/problems.ts';
import type { AcmeServer } from '../../../acme/server.ts';
import type { Reply, RequestContext } from '../../context.ts';
import { jsonContentType } from '../../respond.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { acmeProtocol } from './protocol.ts';
import { acmeOrderEntryRoutes, acmeOrderResourceRoutes } from './order-routes.ts';
import { entryProfile, jwsBody, verifiedRequest } from './verified.ts';

function accountJson(server: AcmeServer, origin: string, account: AcmeAccountRow): Record<string, unknown> {
  return { status: account.status, contact: account.contact, termsOfServiceAgreed: account.tos_agreed, orders: server.urls.accountOrders(origin, account.id) };
}

export function acmeRoutes(deps: { acme: AcmeServer }): RouteDefinition[] {
  const server = deps.acme;
  const protocol = acmeProtocol(server);
  // The directory is the index itself: no Link to it (RFC 8555 7.1).
  const directoryProtocol = acmeProtocol(server, { indexLink: false });
  // new-nonce is the one GET whose answer is its nonce.
  const nonceProtocol = acmeProtocol(server, { nonceOnGet: true });

  const verified = (ctx: RequestContext, rule: SignerRule) => verifiedRequest(server, ctx, rule);

  /** The entry points, at `/acme/...` (prefix '') and per profile at `/acme/{profile}/...`. */
  const entryRoutes = (prefix: string): RouteDefinition[] => [
    route({
      method: 'GET',
      path: `/acme${prefix}/directory`,
      summary: 'ACME directory (RFC 8555 7.1.1): the URLs of every ACME resource and the server meta',
      response: { description: 'the directory object' },
      access: 'public',
      protocol: directoryProtocol,
      // Every client run starts here: logged at debug, like the nonce (errors still at info).
      quiet: true,
      handler: async (ctx): Promise<Reply> => ({
        status: 200,
        raw: { contentType: jsonContentType, payload: await server.directoryBody(server.urls.origin(ctx.host), await entryProfile(server, ctx)) },
      }),
    }),
    route({
      method: 'GET',
      path: `/acme${prefix}/new-nonce`,
      summary: 'A fresh ACME nonce in Replay-Nonce (RFC 8555 7.2): HEAD answers 200, GET 204',
      response: { status: 204, description: 'no body; the nonce is in Replay-Nonce' },
      access: 'public',
      protocol: nonceProtocol,
      quiet: true,
      handler: async (ctx): Promise<Reply> => {
        await entryProfile(server, ctx);
        return { status: ctx.isHead ? 200 : 204 };
      },
    }),
    route({
      method: 'POST',
      path: `/acme${prefix}/new-account`,
      summary: 'ACME new-account (RFC 8555 7.3): 201 with Location for a new key, 200 for a known one',
      body: jwsBody,
      response: { status: 201, description: 'the account; Location is its URL (the kid)' },
      access: 'public',
      protocol,
      handler: async (ctx): Promise<Reply> => {
        await entryProfile(server, ctx);
        const { origin, request } = await verified(ctx, 'jwk');
        const payload = payloadObject(request);
        if (!payload) throw AcmeProblems.malformed('new-account needs a payload (an empty object at least)');
        const { account, created } = await server.accounts.findOrCreate(request.key, payload, server.urls.request(origin, ctx.path), ctx.remoteAddress);
        return { status: created ? 201 : 200, headers: { Location: server.urls.account(origin, account.id) }, json: accountJson(server, origin, account) };
      },
    }),
    route({
      method: 'POST',
      path: `/acme${prefix}/key-change`,
      summary: 'ACME key-change (RFC 8555 7.3.5): the account keeps its URL, the new key signs from now on',
      body: jwsBody,
      response: { description: 'the account' },
      access: 'public',
      protocol,
      handler: async (ctx): Promise<Reply> => {
        await entryProfile(server, ctx);
        const { origin, request } = await verified(ctx, 'kid');
        const inner = payloadObject(request);
        if (!inner) throw AcmeProblems.malformed('key-change needs the inner JWS as its payload');
        const url = server.urls.request(origin, ctx.path);
        const account = await server.accounts.changeKey(request.account!, request.key, inner, url, (id) => server.urls.account(origin, id));
        return { status: 200, headers: { Location: server.urls.account(origin, account.id) }, json: accountJson(server, origin, account) };
      },
    }),
    ...acmeOrderEntryRoutes(server, protocol, prefix),
  ];

  return [
    ...entryRoutes(''),
    ...entryRoutes('/:profile'),
    route({
      method: 'POST',
      path: '/acme/acct/:id',
      summary: 'ACME account (RFC 8555 7.3.2, 7.3.6): read (POST-as-GET), update contacts, or deactivate',
      body: jwsBody,
      response: { description: 'the account' },
      access: 'public',
      protocol,
      handler: async (ctx): Promise<Reply> => {
        const { origin, request } = await verified(ctx, 'kid');
        if (request.account!.id !== ctx.param('id')) throw AcmeProblems.unauthorized('the JWS is signed by another account than the one this URL names');
        const account = await server.accounts.update(request.account!, payloadObject(request));
        return { status: 200, headers: { Location: server.urls.account(origin, account.id) }, json: accountJson(server, origin, account) };
      },
    }),
    ...acmeOrderResourceRoutes(server, protocol),
  ];
}
