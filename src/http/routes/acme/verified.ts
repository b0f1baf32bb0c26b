/** The one way an ACME route authenticates: the request's JWS, checked against the URL it was sent to. */
import { z } from 'zod';
import type { SignerRule, VerifiedRequest } from '../../../acme/requests.ts';
import type { AcmeServer } from '../../../acme/server.ts';
import type { RequestContext } from '../../context.ts';

export async function verifiedRequest(server: AcmeServer, ctx: RequestContext, rule: SignerRule): Promise<{ origin: string; request: VerifiedRequest }> {
  const origin = server.urls.origin(ctx.host);
  const request = await server.verifier.verify(ctx.body, server.urls.request(origin, ctx.path), origin, rule);
  return { origin, request };
}

/** A flattened JWS; its content is checked by the verifier, which names what is wrong in ACME terms. */
export const jwsBody = z.unknown();

/** The profile a `/acme/{profile}/...` entry URL names (404 unless offered); undefined on `/acme/...`. */
export async function entryProfile(server: AcmeServer, ctx: RequestContext): Promise<string | undefined> {
  const profile = ctx.param('profile') || undefined;
  if (profile) await server.pathProfile(profile);
  return profile;
}
