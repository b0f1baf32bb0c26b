/**
 * Request body reading with a hard size limit. A declared Content-Length over the limit is
 * refused before any byte is read; a body that grows past it (chunked, or a lying length) is
 * refused at the chunk that crosses it. Either way nothing beyond the limit is buffered, and the
 * caller answers 413 with Connection: close so the unread rest is never parsed as a request.
 */
import type { HttpResponse } from './uws.ts';
import type { RequestContext } from './context.ts';
import { AppError, Errors } from '../errors.ts';

/** Registers onData now (uWS requires it before the handler returns); resolves with the body. */
export function readBody(res: HttpResponse, ctx: RequestContext, limit: number): Promise<Buffer> {
  const declared = ctx.contentLength === '' ? -1 : Number(ctx.contentLength);
  ctx.bodyConsumed = false;
  if (declared > limit) return Promise.reject(Errors.payloadTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > limit) {
        done = true;
        reject(Errors.payloadTooLarge(limit));
        return;
      }
      // uWS reuses the ArrayBuffer after this callback returns: copy the bytes out.
      if (chunk.byteLength > 0) chunks.push(Buffer.copyBytesFrom(new Uint8Array(chunk)));
      if (isLast) {
        done = true;
        ctx.bodyConsumed = true;
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      }
    });
  });
}

const jsonContentType = /^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;|$)/i;

/** 415 unless the request declares JSON; run before reading so a wrong type costs nothing. */
export function requireJsonContentType(ctx: RequestContext): void {
  if (!jsonContentType.test(ctx.contentType)) throw Errors.unsupportedMediaType('application/json');
}

/**
 * Parses a JSON body; an empty body is `undefined` (schemas decide whether that is allowed).
 * PostgreSQL text and jsonb cannot hold U+0000, so a string or key containing it is refused here
 * (400) rather than failing in the database. Only a body whose text contains the escape pays
 * for the exact check.
 */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('invalidJson', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (text.includes('\\u0000') && containsNul(value)) {
    throw Errors.badRequest('request body: strings may not contain the NUL character (U+0000)');
  }
  return value;
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (value === null || typeof value !== 'object') return false;
  for (const [key, inner] of Object.entries(value)) if (key.includes('\0') || containsNul(inner)) return true;
  return false;
}
