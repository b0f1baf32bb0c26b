/**
 * Bearer authentication and permission checks for routes. Credentials are API keys
 * (src/services/auth/api-keys.ts); nothing here logs or echoes a token.
 */
import { Errors } from '../errors.ts';
import { can, type Permission, type Principal } from '../services/auth/permissions.ts';
import type { RequestContext } from './context.ts';

export type Authenticate = (token: string) => Promise<Principal | undefined>;

/** The token of `Authorization: Bearer <token>`, or a 401 that says what is wrong. */
export function bearerToken(header: string): string {
  if (header === '') throw Errors.unauthenticated('missing credentials: send Authorization: Bearer <api key>');
  const space = header.indexOf(' ');
  const scheme = space === -1 ? header : header.slice(0, space);
  const token = space === -1 ? '' : header.slice(space + 1).trim();
  if (scheme.toLowerCase() !== 'bearer' || token === '') {
    throw Errors.unauthenticated('Authorization must use the Bearer scheme: Authorization: Bearer <api key>');
  }
  return token;
}

export async function authorize(ctx: RequestContext, permission: Permission, authenticate: Authenticate): Promise<void> {
  const principal = await authenticate(bearerToken(ctx.authorization));
  if (!principal) throw Errors.unauthenticated('invalid, revoked or expired API key');
  if (!can(principal, permission)) {
    throw Errors.forbidden(`API key ${principal.name} (role ${principal.role}) lacks the permission ${permission}`);
  }
  // An agent's key acts only for that agent: /api/v1/agents/{its own id}/...
  if (permission === 'agent.self' && principal.agentId !== ctx.params.id) {
    throw Errors.forbidden(`API key ${principal.name} acts only for agent ${principal.agentId ?? '(none)'}`);
  }
  ctx.principal = principal;
}
