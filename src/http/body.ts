/**
 * Request body reading with a hard size limit. A declared Content-Length over the limit is
 * refused before any byte is read; a body that grows past it (chunked, or a lying length) is
 * refused at the chunk that crosses it. Either way nothing beyond the limit is buffered, and the
 * caller answers 413 with Connection: close so the unread rest is never parsed as a request.
 */
import type { HttpResponse } from './uws.ts';
import type { RequestContext } from './context.ts';
import { isUtf8 } from 'node:buffer';
import { AppError, Errors } from '../errors.ts';
import { isStorableText } from '../text.ts';

/** Registers onData now (uWS requires it before the handler returns); resolves with the body. */
export function readBody(res: HttpResponse, ctx: RequestContext, limit: number): Promise<Buffer> {
  const declared = ctx.contentLength === '' ? -1 : Number(ctx.contentLength);
  ctx.bodyConsumed = false;
  if (declared > limit) return Promise.reject(Errors.payloadTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    // A client that goes away mid-body never sends the last chunk: without this the request
    // would stay in flight forever (20,000 aborted uploads held +17 MB and delayed shutdown).
    ctx.onAbort = () => {
      if (done) return;
      done = true;
      chunks.length = 0;
      reject(Errors.badRequest('the client closed the connection before sending the whole body'));
    };
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > limit) {
        done = true;
        ctx.onAbort = undefined;
        reject(Errors.payloadTooLarge(limit));
        return;
      }
      // uWS reuses the ArrayBuffer after this callback returns: copy the bytes out.
      if (chunk.byteLength > 0) chunks.push(Buffer.copyBytesFrom(new Uint8Array(chunk)));
      if (isLast) {
        done = true;
        ctx.onAbort = undefined;
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

/** The request's media type is one of `accepted` (lower-case, parameters ignored); else 415. */
export function requireContentType(ctx: RequestContext, accepted: readonly string[]): void {
  const media = ctx.contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (!accepted.includes(media)) throw Errors.unsupportedMediaType(accepted.join(' or '));
}

/** Deepest nesting a body may have: the API's deepest documents (issuer config) use 4 levels. */
export const maxJsonDepth = 32;

/**
 * Parses a JSON body; an empty body is `undefined` (schemas decide whether that is allowed).
 * Refused with 400, before anything reaches a schema, a log line or the database:
 * - bytes that are not UTF-8 (RFC 8259 section 8.1; decoding would silently turn them into U+FFFD);
 * - nesting deeper than `maxJsonDepth` (JSON.parse copes, but JSON.stringify of 10,000 levels
 *   overflows the stack later, in a presenter or the audit log);
 * - strings or keys PostgreSQL cannot store: U+0000 and lone surrogates (`"\ud800"`: jsonb
 *   refuses the escape, text columns would store U+FFFD instead). Both can only arrive as
 *   `\u` escapes (raw bytes for them are not UTF-8), so only bodies holding one pay for
 *   checking every string.
 * The parsed value is walked once for depth: cheaper than scanning the text (50 vs 190 ns for a
 * heartbeat). bench/http/body-parse.bench.ts
 */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  if (!isUtf8(body)) throw Errors.badRequest('request body is not valid UTF-8');
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('invalidJson', `request body is not valid JSON: ${(err as Error).message}`);
  }
  const bad = checkValue(value, 0, text.includes('\\u'));
  if (bad !== undefined) {
    throw Errors.badRequest(
      `request body: ${bad.replace(/^\./, '') || 'the body'} holds text PostgreSQL cannot store (the NUL character U+0000, or a lone UTF-16 surrogate)`,
    );
  }
  return value;
}

/**
 * Throws past `maxJsonDepth`; with `strings`, returns the path of the first string or key that
 * is not storable text ('' for the root). The path is built only on the way out of a find.
 */
function checkValue(value: unknown, depth: number, strings: boolean): string | undefined {
  if (typeof value === 'string') return strings && !isStorableText(value) ? '' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth === maxJsonDepth) throw Errors.badRequest(`request body nests deeper than ${maxJsonDepth} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = checkValue(value[i], depth + 1, strings);
      if (bad !== undefined) return `[${i}]${bad}`;
    }
    return undefined;
  }
  for (const key in value) {
    if (strings && !isStorableText(key)) return ' (a key of it)';
    const bad = checkValue((value as Record<string, unknown>)[key], depth + 1, strings);
    if (bad !== undefined) return `.${key}${bad}`;
  }
  return undefined;
}
