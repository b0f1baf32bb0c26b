/**
 * The one place errors become responses: `{"error","code","message","request_id"}`.
 * `error` is the HTTP status text (as certctl sends), `code` the stable CF_ERR_* code from
 * src/errors.ts. Internal errors render generic text; their cause goes to the log only.
 */
import { z } from 'zod';
import { AppError, describeZodError, Errors, isAppError } from '../errors.ts';
import type { Reply, RequestContext } from './context.ts';
import { statusText } from './respond.ts';

export function errorEnvelope(status: number, code: string, message: string, requestId: string) {
  return { error: statusText(status), code, message, request_id: requestId };
}

/** Maps anything thrown by a route to a reply. Returns the AppError used, for logging. */
export function problemFor(err: unknown, ctx: RequestContext): { reply: Reply; problem: AppError } {
  let problem: AppError;
  if (isAppError(err)) problem = err;
  else if (err instanceof z.ZodError) problem = Errors.validation(describeZodError(err));
  else problem = Errors.internal(err);
  return {
    problem,
    reply: {
      status: problem.status,
      json: errorEnvelope(problem.status, problem.code, problem.message, ctx.requestId),
      headers: { ...problem.headers },
    },
  };
}
