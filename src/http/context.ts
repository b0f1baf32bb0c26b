/**
 * Per-request state. uWS's HttpRequest is valid only during the synchronous part of a handler,
 * so everything a handler may need later is copied here first; HttpResponse must never be
 * touched after onAborted fires, so every write goes through `ctx.aborted` checks (respond.ts).
 */
import type { HttpRequest, HttpResponse } from './uws.ts';
import { Errors } from '../errors.ts';
import type { Principal } from '../services/auth/permissions.ts';
import { requestIdFrom } from './request-id.ts';
import type { TrustedProxies } from './client-address.ts';

/** Writes one chunk of a streamed body; resolves when the socket can take more. */
export type ChunkWriter = (chunk: string) => Promise<void>;

/** What a handler returns: a JSON body, a raw payload, a stream, or nothing (204/304). */
export interface Reply {
  status: number;
  /** Serialised with JSON.stringify unless `raw` or `stream` is set. */
  json?: unknown;
  raw?: { contentType: string; payload: string | Buffer };
  /**
   * A body produced piece by piece (chunked encoding), with backpressure. `release` runs exactly
   * once when the stream ends, fails, or never starts (an aborted request, a HEAD).
   */
  stream?: { contentType: string; produce: (write: ChunkWriter) => Promise<void>; release?: () => void };
  headers?: Record<string, string>;
  /** A strong ETag known in advance (quoted); spares hashing a large payload per request. */
  etag?: string;
}

export class RequestContext<B = unknown, Q = unknown> {
  readonly method: string;
  readonly isHead: boolean;
  /** Raw path as sent (percent-encoded), without the query string. */
  readonly path: string;
  readonly rawQuery: string;
  readonly requestId: string;
  readonly authorization: string;
  /** The Host header as sent (ACME builds its URLs from it when no public URL is configured). */
  readonly host: string;
  readonly contentType: string;
  readonly contentLength: string;
  readonly ifNoneMatch: string;
  readonly params: Readonly<Record<string, string>>;
  readonly startedAt: number;
  /** Set by onAborted: the client is gone and the response must not be touched. */
  aborted = false;
  /** Called once on abort (a streaming writer waiting for drain uses it). */
  onAbort: (() => void) | undefined = undefined;
  /** False while request body bytes are still unread on the socket. */
  bodyConsumed = true;
  principal: Principal | undefined = undefined;
  /** The route's body schema output (see RouteDefinition.body); set before the handler runs. */
  body = undefined as B;
  /** The route's query schema output (see RouteDefinition.query). */
  queryParams = undefined as Q;
  /** Filled when a response is written, for the access log and metrics. */
  status = 0;
  responseBytes = 0;
  #query: URLSearchParams | undefined;
  /** The response, kept only to read the peer address on demand (see remoteAddress). */
  #res: HttpResponse | undefined;
  #remoteAddress: string | undefined;
  readonly #proxies: TrustedProxies | undefined;
  /** Every X-Forwarded-For line, joined with commas; read only when some proxy is trusted. */
  readonly #forwardedFor: string;

  /** `proxies`: the peers whose X-Forwarded-For names the client (CERTFLEET_TRUSTED_PROXIES). */
  constructor(req: HttpRequest, paramNames: readonly string[], isHead: boolean, proxies?: TrustedProxies) {
    this.startedAt = performance.now();
    // uWS lower-cases methods on some paths (the any() fallback); HTTP methods are upper-case tokens.
    this.method = req.getMethod().toUpperCase();
    this.isHead = isHead;
    this.path = req.getUrl();
    this.rawQuery = req.getQuery() ?? '';
    this.requestId = requestIdFrom(req.getHeader('x-request-id'));
    this.authorization = req.getHeader('authorization');
    this.host = req.getHeader('host');
    this.contentType = req.getHeader('content-type');
    this.contentLength = req.getHeader('content-length');
    this.ifNoneMatch = req.getHeader('if-none-match');
    this.#proxies = proxies;
    this.#forwardedFor = proxies ? forwardedForOf(req) : '';
    const params: Record<string, string> = {};
    for (let i = 0; i < paramNames.length; i++) params[paramNames[i]!] = req.getParameter(i);
    this.params = params;
  }

  /** A path parameter, percent-decoded; a malformed escape is the client's 400. */
  param(name: string): string {
    const raw = this.params[name] ?? '';
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw Errors.badRequest(`path parameter ${name} is not valid percent-encoding`);
    }
    // PostgreSQL text cannot hold U+0000 (it would fail in the database as a 5xx).
    if (value.includes('\0')) throw Errors.badRequest(`path parameter ${name} may not contain the NUL character (%00)`);
    return value;
  }

  /** Set by the server before the handler runs. */
  attach(res: HttpResponse): void {
    this.#res = res;
  }

  /**
   * The client's IP address as text (per-IP limits), read when first asked: most routes never
   * need it. The TCP peer, unless the peer is a trusted proxy: then the client it names in
   * X-Forwarded-For (./client-address.ts). Read it in the handler, before the response is
   * written (uWS forbids touching a finished response; '' then).
   */
  get remoteAddress(): string {
    if (this.#remoteAddress === undefined) {
      let peer = '';
      try {
        peer = this.#res && !this.aborted && this.status === 0 ? Buffer.from(this.#res.getRemoteAddressAsText()).toString() : '';
      } catch {
        peer = '';
      }
      this.#remoteAddress = this.#proxies && peer !== '' ? this.#proxies.clientAddress(peer, this.#forwardedFor) : peer;
    }
    return this.#remoteAddress;
  }

  get query(): URLSearchParams {
    if (!this.#query) {
      const query = new URLSearchParams(this.rawQuery);
      if (this.rawQuery.includes('%00')) {
        for (const [key, value] of query) {
          if (key.includes('\0') || value.includes('\0'))
            throw Errors.badRequest(`query parameter ${key.replaceAll('\0', '')} may not contain the NUL character (%00)`);
        }
      }
      this.#query = query;
    }
    return this.#query;
  }
}

/** Every X-Forwarded-For line of `req`, joined: repeated lines are one list (RFC 9110 5.3), and HAProxy adds a line of its own. */
function forwardedForOf(req: HttpRequest): string {
  if (req.getHeader('x-forwarded-for') === '') return '';
  const lines: string[] = [];
  req.forEach((name, value) => {
    if (name === 'x-forwarded-for') lines.push(value);
  });
  return lines.join(',');
}
