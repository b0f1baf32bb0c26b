/**
 * The HTTP engine for Node.js versions uWebSockets.js has no binary for (22, 24): the part of
 * the uWS API that src/http uses (apps, method routes with `:param` and `/*`, the request,
 * the response with onData, backpressure and corked writes) over node:http or node:https.
 * The uWS republication's own fallback is not usable: it throws "Not implemented" from
 * endWithoutBody, onWritable and getRemoteAddressAsText, and its getQuery throws on every
 * relative URL (test/integration/http-engines.test.ts runs the API through both engines).
 *
 * Semantics kept from uWS: getMethod() is lower-case, getUrl() is the raw path without the
 * query, getParameter(i) is the raw segment, routes match static segments before parameters
 * before wildcards, and an idle connection is closed after 10 s.
 */
import http from 'node:http';
import https from 'node:https';

type Handler = (res: NodeResponse, req: NodeRequest) => void;

type Segment = { kind: 'static'; text: string } | { kind: 'param' } | { kind: 'wildcard' };

interface Route {
  /** Lower-case method, or '*' for any(). */
  method: string;
  segments: Segment[];
  handler: Handler;
}

const kindRank = { static: 0, param: 1, wildcard: 2 } as const;

function compile(pattern: string): Segment[] {
  return pattern
    .split('/')
    .slice(1)
    .map((text): Segment => (text === '*' ? { kind: 'wildcard' } : text.startsWith(':') ? { kind: 'param' } : { kind: 'static', text }));
}

/** Method routes before any(); within each, the more specific segment first, left to right. */
function compareRoutes(a: Route, b: Route): number {
  if ((a.method === '*') !== (b.method === '*')) return a.method === '*' ? 1 : -1;
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const byKind = kindRank[a.segments[i]!.kind] - kindRank[b.segments[i]!.kind];
    if (byKind !== 0) return byKind;
  }
  return b.segments.length - a.segments.length;
}

/** Fills `params` and returns true when `parts` (the path split on '/') match the route. */
function matches(route: Route, parts: string[], params: string[]): boolean {
  params.length = 0;
  const { segments } = route;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.kind === 'wildcard') return true;
    const part = parts[i];
    if (part === undefined) return false;
    if (segment.kind === 'static') {
      if (part !== segment.text) return false;
    } else {
      if (part === '') return false;
      params.push(part);
    }
  }
  return parts.length === segments.length;
}

export class NodeRequest {
  readonly #raw: http.IncomingMessage;
  readonly #path: string;
  readonly #query: string | undefined;
  readonly #params: string[];

  constructor(raw: http.IncomingMessage, path: string, query: string | undefined, params: string[]) {
    this.#raw = raw;
    this.#path = path;
    this.#query = query;
    this.#params = params;
  }

  getHeader(lowerCaseName: string): string {
    const value = this.#raw.headers[lowerCaseName];
    return value === undefined ? '' : Array.isArray(value) ? value.join(', ') : value;
  }

  /** Every header, as uWS's forEach; node:http has already joined repeated lines with ', '. */
  forEach(callback: (lowerCaseKey: string, value: string) => void): void {
    for (const [name, value] of Object.entries(this.#raw.headers)) {
      if (value !== undefined) callback(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }

  getMethod(): string {
    return (this.#raw.method ?? '').toLowerCase();
  }

  getUrl(): string {
    return this.#path;
  }

  getQuery(): string | undefined {
    return this.#query;
  }

  getParameter(index: number): string {
    return this.#params[index] ?? '';
  }
}

const statusLine = /^(\d{3})(?: (.*))?$/;

export class NodeResponse {
  readonly #req: http.IncomingMessage;
  readonly #res: http.ServerResponse;
  #ended = false;
  #written = 0;
  #onAborted: (() => void) | undefined;

  constructor(req: http.IncomingMessage, res: http.ServerResponse) {
    this.#req = req;
    this.#res = res;
    // uWS: onAborted runs when the connection goes away before the response ended.
    res.once('close', () => {
      if (!this.#ended) {
        this.#ended = true;
        this.#onAborted?.();
      }
    });
  }

  onAborted(handler: () => void): this {
    this.#onAborted = handler;
    return this;
  }

  /**
   * The body in chunks, the last one flagged. The chunk is a Buffer standing in for uWS's
   * ArrayBuffer: readers copy it with `new Uint8Array(chunk)`, which copies a view's own bytes.
   */
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): this {
    this.#req.on('data', (chunk: Buffer) => handler(chunk as unknown as ArrayBuffer, false));
    this.#req.on('end', () => handler(new ArrayBuffer(0), true));
    return this;
  }

  /**
   * Runs `work` without corking: on Node.js 24 a write that fills the buffer inside
   * res.cork()/uncork() never gets its 'drain' (a stream stalls), and node:http already sends
   * the head with the first body bytes.
   */
  cork(work: () => void): this {
    work();
    return this;
  }

  writeStatus(line: string): this {
    const match = statusLine.exec(line);
    this.#res.statusCode = Number(match?.[1] ?? 500);
    if (match?.[2]) this.#res.statusMessage = match[2];
    return this;
  }

  writeHeader(name: string, value: string): this {
    this.#res.appendHeader(name, value);
    return this;
  }

  write(chunk: string | Buffer): boolean {
    this.#written += Buffer.byteLength(chunk);
    return this.#res.write(chunk);
  }

  /** Called (once) when a write that returned false has drained. */
  onWritable(handler: (offset: number) => boolean): this {
    this.#res.once('drain', () => handler(this.#written));
    return this;
  }

  getWriteOffset(): number {
    return this.#written;
  }

  end(body: string | Buffer = '', closeConnection = false): this {
    this.#ended = true;
    if (closeConnection) this.#res.setHeader('Connection', 'close');
    this.#res.end(body);
    return this;
  }

  /** The head only: HEAD (with the length the body would have), 204 and 304. */
  endWithoutBody(reportedContentLength?: number, closeConnection = false): this {
    this.#ended = true;
    const status = this.#res.statusCode;
    if (reportedContentLength !== undefined && status !== 204 && status !== 304) this.#res.setHeader('Content-Length', reportedContentLength);
    if (closeConnection) this.#res.setHeader('Connection', 'close');
    this.#res.end();
    return this;
  }

  /** Closes the connection at once (a truncated transfer, as uWS's close()). */
  close(): this {
    this.#ended = true;
    this.#res.destroy();
    return this;
  }

  getRemoteAddressAsText(): ArrayBuffer {
    const text = Buffer.from(this.#req.socket.remoteAddress ?? '');
    return text.buffer.slice(text.byteOffset, text.byteOffset + text.byteLength);
  }
}

/** What listen() hands back, as uWS's listen socket. */
export interface NodeListenSocket {
  server: http.Server;
}

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** Idle keep-alive and header deadlines as uWS's (HTTP_IDLE_TIMEOUT_S = 10). */
const idleTimeoutMs = 10_000;

export class NodeApp {
  readonly #routes: Route[] = [];
  #sorted = true;
  #tls: TlsPair | undefined;
  #server: http.Server | undefined;

  constructor(tls?: TlsPair) {
    this.#tls = tls;
  }

  #add(method: string, pattern: string, handler: Handler): this {
    this.#routes.push({ method, segments: compile(pattern), handler });
    this.#sorted = false;
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.#add('get', pattern, handler);
  }
  head(pattern: string, handler: Handler): this {
    return this.#add('head', pattern, handler);
  }
  post(pattern: string, handler: Handler): this {
    return this.#add('post', pattern, handler);
  }
  put(pattern: string, handler: Handler): this {
    return this.#add('put', pattern, handler);
  }
  patch(pattern: string, handler: Handler): this {
    return this.#add('patch', pattern, handler);
  }
  del(pattern: string, handler: Handler): this {
    return this.#add('delete', pattern, handler);
  }
  any(pattern: string, handler: Handler): this {
    return this.#add('*', pattern, handler);
  }

  #serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!this.#sorted) {
      this.#routes.sort(compareRoutes);
      this.#sorted = true;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? undefined : url.slice(q + 1);
    const method = (req.method ?? '').toLowerCase();
    const parts = path.split('/').slice(1);
    const params: string[] = [];
    for (const route of this.#routes) {
      if ((route.method === method || route.method === '*') && matches(route, parts, params)) {
        route.handler(new NodeResponse(req, res), new NodeRequest(req, path, query, [...params]));
        return;
      }
    }
    res.statusCode = 404;
    res.end();
  }

  /** Binds exclusively (no port sharing); `done` gets the listen socket, or false. */
  listen(host: string, port: number, _options: number, done: (socket: NodeListenSocket | false) => void): this {
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => this.#serve(req, res);
    const server = this.#tls ? https.createServer({ cert: this.#tls.cert, key: this.#tls.key }, onRequest) : http.createServer(onRequest);
    server.keepAliveTimeout = idleTimeoutMs;
    server.headersTimeout = idleTimeoutMs;
    this.#server = server;
    const onError = () => done(false);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.removeListener('error', onError);
      done({ server });
    });
    return this;
  }

  /** New connections handshake with `pair` from now on; open ones keep theirs. */
  setCredentials(pair: TlsPair): void {
    this.#tls = pair;
    (this.#server as https.Server | undefined)?.setSecureContext({ cert: pair.cert, key: pair.key });
  }

  /** Closes every connection, idle or not (uWS app.close()). */
  close(): void {
    this.#server?.close();
    this.#server?.closeAllConnections();
  }
}

/** The engine object, shaped as the uWS module's exports that src/http calls. */
export const nodeEngine = {
  App: () => new NodeApp(),
  us_listen_socket_close: (socket: NodeListenSocket) => {
    socket.server.close();
  },
  us_socket_local_port: (socket: NodeListenSocket) => {
    const address = socket.server.address();
    return typeof address === 'object' && address ? address.port : -1;
  },
};
