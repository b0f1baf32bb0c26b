/**
 * The ACME order flow's routes (RFC 8555 7.4-7.6, RFC 9773): new-order, orders, authorizations,
 * challenges, finalize, certificate download, revocation and renewal information. Resources
 * are read with POST-as-GET (an empty payload); a GET on them is a 405 from the router.
 */
import type { AcmeServer } from '../../../acme/server.ts';
import { payloadObject } from '../../../acme/requests.ts';
import { AcmeProblems } from '../../../acme/problems.ts';
import type { Reply } from '../../context.ts';
import { route, type RouteDefinition, type RouteProtocol } from '../../router.ts';
import { authorizationJson, challengeJson, orderJson } from './presenters.ts';
import { entryProfile, jwsBody, verifiedRequest } from './verified.ts';

/** Seconds a client polling a processing order or challenge is asked to wait. */
const pollAfterSeconds = '1';
/** The most order URLs an account's orders list names (RFC 8555 7.1.2.1 allows paging; few clients read it). */
const ordersListLimit = 1_000;

/** new-order, revoke-cert and renewal-info: entry points, also served per profile (`prefix` '/:profile'). */
export function acmeOrderEntryRoutes(server: AcmeServer, protocol: RouteProtocol, prefix: string): RouteDefinition[] {
  const { urls, orders } = server;
  const common = { body: jwsBody, access: 'public' as const, protocol };
  return [
    route({
      ...common,
      method: 'POST',
      path: `/acme${prefix}/new-order`,
      summary: 'ACME new-order (RFC 8555 7.4): 201 with the order and its URL in Location',
      response: { status: 201, description: 'the order' },
      handler: async (ctx): Promise<Reply> => {
        const profile = await entryProfile(server, ctx);
        const { origin, request } = await verifiedRequest(server, ctx, 'kid');
        const payload = payloadObject(request);
        if (!payload) throw AcmeProblems.malformed('new-order needs a payload with identifiers');
        const view = await orders.create(request.account!, urls.account(origin, request.account!.id), payload, profile);
        return { status: 201, headers: { Location: urls.order(origin, view.order.id) }, json: orderJson(urls, origin, view) };
      },
    }),
    route({
      ...common,
      method: 'POST',
      path: `/acme${prefix}/revoke-cert`,
      summary: "ACME revokeCert (RFC 8555 7.6): signed by the ordering account (kid) or the certificate's key (jwk)",
      response: { description: 'empty' },
      handler: async (ctx): Promise<Reply> => {
        await entryProfile(server, ctx);
        const { request } = await verifiedRequest(server, ctx, 'either');
        await server.revocation.revoke(request, payloadObject(request));
        return { status: 200 };
      },
    }),
    route({
      method: 'GET',
      path: `/acme${prefix}/renewal-info/:id`,
      summary: 'ACME renewal information (RFC 9773): when to renew a certificate, with Retry-After',
      response: { description: '{suggestedWindow: {start, end}}' },
      access: 'public',
      protocol,
      // Polled by every ARI client for every certificate: logged at debug (errors still at info).
      quiet: true,
      handler: async (ctx): Promise<Reply> => {
        await entryProfile(server, ctx);
        const window = await server.renewalInfo(ctx.param('id'));
        return {
          status: 200,
          headers: { 'Retry-After': String(server.renewalInfoRetryAfterSeconds) },
          json: { suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() } },
        };
      },
    }),
  ];
}

/** Orders, authorizations, challenges, certificates and an account's orders: one URL each, whatever the directory. */
export function acmeOrderResourceRoutes(server: AcmeServer, protocol: RouteProtocol): RouteDefinition[] {
  const { urls, orders } = server;
  const common = { body: jwsBody, access: 'public' as const, protocol };

  return [
    route({
      ...common,
      method: 'POST',
      path: '/acme/order/:id',
      summary: 'ACME order (POST-as-GET): its status, authorizations and, once valid, certificate URL',
      response: { description: 'the order' },
      handler: async (ctx): Promise<Reply> => {
        const { origin, request } = await verifiedRequest(server, ctx, 'kid');
        const view = await orders.get(request.account!, ctx.param('id'));
        const headers: Record<string, string> = view.order.status === 'processing' ? { 'Retry-After': pollAfterSeconds } : {};
        return { status: 200, headers, json: orderJson(urls, origin, view) };
      },
    }),
    route({
      ...common,
      method: 'POST',
      path: '/acme/order/:id/finalize',
      summary: 'ACME finalize (RFC 8555 7.4): the CSR; the certificate is issued at once from a local CA',
      response: { description: 'the order, valid with its certificate URL' },
      handler: async (ctx): Promise<Reply> => {
        const { origin, request } = await verifiedRequest(server, ctx, 'kid');
        const view = await orders.finalize(request.account!, request.key, ctx.param('id'), payloadObject(request));
        const headers: Record<string, string> = { Location: urls.order(origin, view.order.id) };
        if (view.order.status === 'processing') headers['Retry-After'] = pollAfterSeconds;
        return { status: 200, headers, json: orderJson(urls, origin, view) };
      },
    }),
    route({
      ...common,
      method: 'POST',
      path: '/acme/authz/:id',
      summary: 'ACME authorization (RFC 8555 7.5): read (POST-as-GET) or deactivate',
      response: { description: 'the authorization' },
      handler: async (ctx): Promise<Reply> => {
        const { origin, request } = await verifiedRequest(server, ctx, 'kid');
        const authorization = await orders.updateAuthorization(request.account!, ctx.param('id'), payloadObject(request));
        return { status: 200, json: authorizationJson(urls, origin, authorization) };
      },
    }),
    route({
      ...common,
      method: 'POST',
      path: '/acme/chall/:id',
      summary: 'ACME challenge (RFC 8555 7.5.1): {} starts its validation in the background; POST-as-GET reads it',
      response: { description: 'the challenge' },
      handler: async (ctx): Promise<Reply> => {
        const { origin, request } = await verifiedRequest(server, ctx, 'kid');
        const challenge = await orders.respond(request.account!, request.key, ctx.param('id'), payloadObject(request));
        const headers: Record<string, string> = { Link: `<${urls.authorization(origin, challenge.authorization_id)}>;rel="up"` };
        if (challenge.status === 'processing') headers['Retry-After'] = pollAfterSeconds;
        return { status: 200, headers, json: challengeJson(urls, origin, challenge) };
      },
    }),
    route({
      ...common,
      method: 'POST',
      path: '/acme/cert/:id',
      summary: "ACME certificate download (RFC 8555 7.4.2): the leaf then its issuer, PEM, for the order's account only",
      response: { description: 'application/pem-certificate-chain' },
      handler: async (ctx): Promise<Reply> => {
        const { request } = await verifiedRequest(server, ctx, 'kid');
        const chain = await orders.certificateChain(request.account!, ctx.param('id'));
        return { status: 200, raw: { contentType: 'application/pem-certificate-chain', payload: chain } };
      },
    }),
    route({
      ...common,
      method: 'POST',
      path: '/acme/acct/:id/orders',
      summary: "ACME orders list (RFC 8555 7.1.2.1): the account's live orders, newest first",
      response: { description: '{orders: [...]}' },
      handler: async (ctx): Promise<Reply> => {
        const { origin, request } = await verifiedRequest(server, ctx, 'kid');
        if (request.account!.id !== ctx.param('id')) throw AcmeProblems.unauthorized('the JWS is signed by another account than the one this URL names');
        const ids = await orders.ordersOf(request.account!, ordersListLimit);
        return { status: 200, json: { orders: ids.map((id) => urls.order(origin, id)) } };
      },
    }),
  ];
}
