/** ACME resources as JSON (RFC 8555 7.1.3-7.1.5): timestamps in RFC 3339 UTC, every URL absolute. */
import type { AcmeAuthorizationRow, AcmeChallengeRow } from '../../../domain/acme.ts';
import type { OrderView } from '../../../acme/orders.ts';
import type { AcmeUrls } from '../../../acme/urls.ts';

const rfc3339 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function orderJson(urls: AcmeUrls, origin: string, view: OrderView): Record<string, unknown> {
  const { order } = view;
  const json: Record<string, unknown> = {
    status: order.status,
    expires: rfc3339(order.expires_at),
    identifiers: order.identifiers,
    authorizations: view.authorizationIds.map((id) => urls.authorization(origin, id)),
    finalize: urls.finalize(origin, order.id),
  };
  if (order.not_before) json.notBefore = rfc3339(order.not_before);
  if (order.not_after) json.notAfter = rfc3339(order.not_after);
  if (order.replaces) json.replaces = order.replaces;
  if (order.error) json.error = order.error;
  if (order.status === 'valid' && order.version_id) json.certificate = urls.certificate(origin, order.id);
  return json;
}

export function challengeJson(urls: AcmeUrls, origin: string, challenge: AcmeChallengeRow): Record<string, unknown> {
  const json: Record<string, unknown> = { type: challenge.type, url: urls.challenge(origin, challenge.id), status: challenge.status, token: challenge.token };
  if (challenge.validated_at) json.validated = rfc3339(challenge.validated_at);
  if (challenge.error) json.error = challenge.error;
  return json;
}

export function authorizationJson(urls: AcmeUrls, origin: string, authorization: AcmeAuthorizationRow): Record<string, unknown> {
  const json: Record<string, unknown> = {
    identifier: { type: authorization.identifier_type, value: authorization.identifier },
    status: authorization.status,
    expires: rfc3339(authorization.expires_at),
    // A valid authorization lists the challenge that validated it (RFC 8555 7.1.4); others all.
    challenges: (authorization.status === 'valid' && authorization.challenges.some((c) => c.status === 'valid')
      ? authorization.challenges.filter((c) => c.status === 'valid').slice(0, 1)
      : authorization.challenges
    ).map((c) => challengeJson(urls, origin, c)),
  };
  if (authorization.wildcard) json.wildcard = true;
  return json;
}
