/**
 * ACME as a protocol of the HTTP pipeline (RouteProtocol): request bodies are JWS
 * (application/jose+json), errors are RFC 7807 problem documents with ACME error types, and
 * every response carries a Link to the directory, except the directory's own (RFC 8555 7.1:
 * the "index" relation is on all resources other than the directory).
 *
 * Replay-Nonce is on every response to a POST (errors included, so a client retrying a badNonce
 * needs no extra round trip) or a HEAD, and on new-nonce's GET; not on the other GETs (the
 * directory, renewal-info), as Let's Encrypt's Boulder and Pebble do: RFC 8555 6.5 asks for one
 * on POST responses, clients take theirs from new-nonce, and a directory GET, the request every
 * client run starts with, then costs no nonce.
 */
import { z } from 'zod';
import { AcmeProblem, AcmeProblems, isAcmeProblem } from '../../../acme/problems.ts';
import type { AcmeServer } from '../../../acme/server.ts';
import { Errors, isAppError, type AppError } from '../../../errors.ts';
import type { Reply, RequestContext } from '../../context.ts';
import type { LoggedProblem, RouteProtocol } from '../../router.ts';

export const problemContentType = 'application/problem+json';

/** The REST pipeline's own errors (body limit, content type, database down) in ACME's terms. */
function fromAppError(err: AppError): AcmeProblem {
  switch (err.kind) {
    case 'payloadTooLarge':
      return AcmeProblems.malformed(err.message, 413);
    case 'unsupportedMediaType':
      return AcmeProblems.malformed('Content-Type must be application/jose+json', 415);
    case 'notFound':
      return AcmeProblems.malformed(err.message, 404);
    case 'methodNotAllowed':
      return new AcmeProblem('malformed', 405, err.message, {}, { ...err.headers }); // Allow
    case 'rateLimited':
      return new AcmeProblem('rateLimited', 429, err.message, {}, { ...err.headers });
    case 'databaseUnavailable':
    case 'unavailable':
      return AcmeProblems.serverInternal(err.message, 503, { ...err.headers });
    case 'internal':
      return AcmeProblems.serverInternal();
    default:
      return err.status >= 500 ? AcmeProblems.serverInternal() : AcmeProblems.malformed(err.message, err.status);
  }
}

export function acmeProtocol(server: AcmeServer, options: { indexLink?: boolean; nonceOnGet?: boolean } = {}): RouteProtocol {
  const indexLink = options.indexLink ?? true;
  const nonceOnGet = options.nonceOnGet ?? false;
  return {
    bodyContentTypes: ['application/jose+json'],
    problem(err: unknown): { reply: Reply; problem: LoggedProblem } {
      let acme: AcmeProblem;
      let cause: unknown;
      if (isAcmeProblem(err)) acme = err;
      else if (isAppError(err)) {
        acme = fromAppError(err);
        cause = err.kind === 'internal' ? err.cause : undefined;
      } else if (err instanceof z.ZodError) acme = AcmeProblems.malformed(err.issues[0]?.message ?? 'malformed request');
      else {
        acme = AcmeProblems.serverInternal();
        cause = err;
      }
      const logged: LoggedProblem =
        acme.status >= 500 && cause !== undefined
          ? Errors.internal(cause)
          : { kind: acme.status === 401 ? 'unauthenticated' : 'badRequest', code: `ACME_${acme.type}`, message: acme.message, cause: undefined };
      return {
        problem: logged,
        reply: { status: acme.status, headers: { ...acme.headers }, raw: { contentType: problemContentType, payload: JSON.stringify(acme.document()) } },
      };
    },
    headers(ctx: RequestContext): Record<string, string> {
      const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
      // ctx.method is GET for a HEAD too (uWS serves HEAD through the GET route): isHead tells them apart.
      if (nonceOnGet || ctx.method !== 'GET' || ctx.isHead) headers['Replay-Nonce'] = server.nonces.mint();
      if (!indexLink) return headers;
      try {
        headers.Link = `<${server.urls.directory(server.urls.origin(ctx.host), ctx.param('profile') || undefined)}>;rel="index"`;
      } catch {
        // No usable Host: the problem already says so; no Link.
      }
      return headers;
    },
  };
}
