/**
 * The HTTP server: registers route definitions on a uWS app and runs each request through
 * one pipeline: request id -> content-type check -> body read (limit) -> authenticate ->
 * authorize -> JSON parse + schema -> handler -> corked write -> access log + metrics.
 *
 * Shutdown (`close`): stop listening, let in-flight requests finish (responses written while
 * draining carry Connection: close), then close the remaining idle connections.
 */
import type { Logger } from '../observability/logger.ts';
import { LogSampler } from '../observability/log-sampler.ts';
import { scrubForLog } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { describeZodError, Errors } from '../errors.ts';
import { authorize, type Authenticate } from './auth.ts';
import { parseJson, readBody, requireContentType, requireJsonContentType } from './body.ts';
import { RequestContext, type Reply } from './context.ts';
import { problemFor } from './problems.ts';
import { etagFor } from './etag.ts';
import type { ChangeVersions, ResponseCache } from './response-cache.ts';
import { jsonContentType, writeReply, writeStream } from './respond.ts';
import { MethodIndex, paramNames, type LoggedProblem, type RouteDefinition, type RouteProtocol } from './router.ts';
import { loadTlsCredentials, type TlsCredentials, type TlsFiles } from './tls-credentials.ts';
import { NodeApp } from './node-engine.ts';
import type { TrustedProxies } from './client-address.ts';
import { LISTEN_EXCLUSIVE_PORT, type HttpEngine, type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from './uws.ts';

export interface HttpServerOptions {
  engine: HttpEngine;
  log: Logger;
  metrics: Metrics;
  authenticate: Authenticate;
  maxBodyBytes: number;
  /** A streamed response whose client takes nothing for this long is cut off. */
  streamStallTimeoutMs: number;
  /** Response cache for routes with `cache`, and the change versions that validate it; none: no caching. */
  cache?: { responses: ResponseCache; versions: ChangeVersions } | undefined;
  tls?: TlsFiles | undefined;
  /** Peers whose X-Forwarded-For names the client (CERTFLEET_TRUSTED_PROXIES); none: the TCP peer is the client. */
  trustedProxies?: TrustedProxies | undefined;
}

/** What a TLS reload put in service. */
export type TlsReloaded = Pick<TlsCredentials, 'serial' | 'notAfter'>;

const inService = ({ serial, notAfter }: TlsCredentials): TlsReloaded => ({ serial, notAfter });

export interface ListeningAddress {
  host: string;
  port: number;
  scheme: 'http' | 'https';
}

/**
 * Parsed query strings of one route, by raw query: dashboards poll the same few lists, and a
 * query schema costs more to run than the cache lookup that answers the request. Bounded;
 * entries are never mutated (handlers read queryParams only).
 */
class ParsedQueries {
  static readonly max = 512;
  readonly #parsed = new Map<string, unknown>();

  parse(schema: NonNullable<RouteDefinition['query']>, ctx: RequestContext): unknown {
    const known = this.#parsed.get(ctx.rawQuery);
    if (known !== undefined) return known;
    const result = schema.safeParse(Object.fromEntries(ctx.query));
    // A bad parameter is named as one ("query.per_page: ...", "query: Unrecognized key ..."),
    // never reported as the body's.
    if (!result.success) throw Errors.validation(describeZodError(result.error, 'query'));
    const parsed = result.data;
    if (this.#parsed.size >= ParsedQueries.max) this.#parsed.delete(this.#parsed.keys().next().value!);
    this.#parsed.set(ctx.rawQuery, parsed);
    return parsed;
  }
}

/** Quiet period before idle connections are closed at shutdown; see close(). */
const drainQuietMs = 50;

interface ListenWithOptions {
  listen(host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void): void;
}

interface RouteState {
  def: RouteDefinition;
  paramNames: string[];
  queries: ParsedQueries;
  duration: ReturnType<Metrics['httpDuration']['labels']>;
}

export class HttpServer {
  readonly routes = new MethodIndex();
  readonly #options: HttpServerOptions;
  #app: TemplatedApp;
  /** The node:http engine's TLS app, whose credentials are swapped in place on reload. */
  #nodeTlsApp: NodeApp | undefined;
  /** uWS apps replaced by a TLS reload: they finish their open connections and close with the server. */
  readonly #retiredApps: TemplatedApp[] = [];
  readonly #states: RouteState[] = [];
  #bound: { host: string; port: number } | undefined;
  #tlsInService: TlsReloaded | undefined;
  #listenSocket: us_listen_socket | undefined;
  #draining = false;
  #inflight = 0;
  #idle: (() => void) | undefined;
  #lastRequestAt = 0;
  /** Floods of 401s (random tokens) and unmatched paths (scanners) write sampled lines. */
  readonly #unauthenticatedLines: LogSampler;
  readonly #unmatchedLines: LogSampler;

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#unauthenticatedLines = new LogSampler({ log: options.log, what: 'unauthenticated requests' });
    this.#unmatchedLines = new LogSampler({ log: options.log, what: 'requests for no route' });
    this.#app = this.#newApp();
  }

  /** A plain app, or one serving the TLS files as they are now (checked as a pair first). */
  #newApp(): TemplatedApp {
    const { engine, tls } = this.#options;
    if (!tls) return engine.uws.App();
    // uWS reads the files again by name: the check here is what names a bad pair.
    const credentials = loadTlsCredentials(tls);
    this.#tlsInService = inService(credentials);
    if (engine.name === 'node:http') {
      this.#nodeTlsApp = new NodeApp(credentials);
      return this.#nodeTlsApp as unknown as TemplatedApp;
    }
    return engine.uws.SSLApp({ cert_file_name: tls.certPath, key_file_name: tls.keyPath });
  }

  /** The certificate new connections get (none without TLS). */
  get tlsInService(): TlsReloaded | undefined {
    return this.#tlsInService;
  }

  get inflight(): number {
    return this.#inflight;
  }

  register(routes: readonly RouteDefinition[]): void {
    for (const def of routes) {
      this.routes.add(def);
      const state: RouteState = {
        def,
        paramNames: paramNames(def.path),
        queries: new ParsedQueries(),
        duration: this.#options.metrics.httpDuration.labels(def.path, def.method),
      };
      this.#states.push(state);
      this.#mount(this.#app, state);
    }
  }

  #mount(app: TemplatedApp, state: RouteState): void {
    const { def } = state;
    const onRequest = (res: HttpResponse, req: HttpRequest) => this.#dispatch(res, req, state, false);
    switch (def.method) {
      case 'GET':
        app.get(def.path, onRequest);
        app.head(def.path, (res, req) => this.#dispatch(res, req, state, true));
        break;
      case 'POST':
        app.post(def.path, onRequest);
        break;
      case 'PUT':
        app.put(def.path, onRequest);
        break;
      case 'PATCH':
        app.patch(def.path, onRequest);
        break;
      case 'DELETE':
        app.del(def.path, onRequest);
        break;
    }
  }

  /** Binds exclusively (a taken port is an error, not silent SO_REUSEPORT sharing). */
  listen(host: string, port: number): Promise<ListeningAddress> {
    this.#mountFallback(this.#app);
    const { uws } = this.#options.engine;
    return new Promise((resolve, reject) => {
      this.#bind(this.#app, host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port}: the port is in use or the address is not available`));
          return;
        }
        this.#listenSocket = socket;
        const bound = uws.us_socket_local_port(socket as never);
        this.#bound = { host, port: bound };
        if (port === 0 && this.#options.tls && !this.#nodeTlsApp) {
          // uSockets sets SO_REUSEADDR only when it is given a port: bind the chosen one again, or
          // a TLS reload could not rebind it while connections accepted here are still open.
          uws.us_listen_socket_close(socket);
          this.#bind(this.#app, host, bound, (again) => (this.#listenSocket = again || undefined));
          if (!this.#listenSocket) {
            reject(new Error(`cannot listen on ${host}:${bound}: the port was taken while it was being rebound`));
            return;
          }
        }
        resolve({ host, port: bound, scheme: this.#options.tls ? 'https' : 'http' });
      });
    });
  }

  /** The catch-all (404/405), mounted last so every route matches first. */
  #mountFallback(app: TemplatedApp): void {
    app.any('/*', (res, req) => this.#fallback(res, req));
  }

  #bind(app: TemplatedApp, host: string, port: number, done: (socket: us_listen_socket | false) => void): void {
    // uWS accepts (host, port, options, cb); the bundled typings omit that overload.
    (app as unknown as ListenWithOptions).listen(host, port, LISTEN_EXCLUSIVE_PORT, done);
  }

  /**
   * Re-reads the TLS files (SIGHUP). A pair that fails its checks throws and changes nothing.
   * New connections handshake with the new certificate; open ones finish on the old one.
   * uWS cannot swap an app's certificate, so a new app with the same routes takes over the port
   * (the old listen socket closes and the new one binds in the same tick); the old app serves
   * its open connections until they close. The node:http engine swaps its https server's context.
   */
  reloadTls(): TlsReloaded {
    const tls = this.#options.tls;
    if (!tls) throw new Error('not serving HTTPS: set CERTFLEET_TLS_CERT_PATH and CERTFLEET_TLS_KEY_PATH to have something to reload');
    const credentials = loadTlsCredentials(tls);
    if (this.#nodeTlsApp) {
      this.#nodeTlsApp.setCredentials(credentials);
      return (this.#tlsInService = inService(credentials));
    }
    const next = this.#options.engine.uws.SSLApp({ cert_file_name: tls.certPath, key_file_name: tls.keyPath });
    for (const state of this.#states) this.#mount(next, state);
    this.#mountFallback(next);
    if (this.#listenSocket && this.#bound && !this.#draining) {
      const { host, port } = this.#bound;
      const { uws } = this.#options.engine;
      uws.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = undefined;
      // uWS calls back synchronously: the port is never left unbound across an await.
      this.#bind(next, host, port, (socket) => (this.#listenSocket = socket || undefined));
      if (!this.#listenSocket) {
        this.#bind(this.#app, host, port, (socket) => (this.#listenSocket = socket || undefined));
        throw new Error(`cannot listen on ${host}:${port} with the new certificate; still serving the old one`);
      }
    }
    this.#retiredApps.push(this.#app);
    this.#app = next;
    return (this.#tlsInService = inService(credentials));
  }

  /**
   * Stops accepting connections and waits (at most `timeoutMs`) for in-flight requests.
   * Returns the number of requests still running when the wait ended (0 on a clean drain).
   */
  async close(timeoutMs: number): Promise<number> {
    this.#draining = true;
    if (this.#listenSocket) {
      this.#options.engine.uws.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = undefined;
    }
    // Wait until nothing is in flight and nothing new arrived for a short quiet period: a
    // connection accepted just before the listen socket closed may not have delivered its
    // request yet, and closing it then would drop that request.
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#inflight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          this.#idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#idle = undefined;
      }
      const quietFor = performance.now() - this.#lastRequestAt;
      if (this.#inflight === 0 && quietFor >= drainQuietMs) break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, drainQuietMs - quietFor)));
    }
    const left = this.#inflight;
    this.#unauthenticatedLines.flush();
    this.#unmatchedLines.flush();
    // Idle keep-alive connections would otherwise hold the process open until uWS times them out.
    for (const app of [...this.#retiredApps, this.#app]) (app as TemplatedApp & { close?: () => void }).close?.();
    return left;
  }

  #dispatch(res: HttpResponse, req: HttpRequest, state: RouteState, isHead: boolean): void {
    const ctx = new RequestContext(req, state.paramNames, isHead, this.#options.trustedProxies);
    ctx.attach(res);
    res.onAborted(() => {
      ctx.aborted = true;
      ctx.onAbort?.();
    });
    this.#inflight++;
    this.#lastRequestAt = ctx.startedAt;
    let early: unknown;
    let body: Promise<Buffer> | undefined;
    const bodiless = state.def.bodyOptional === true && ctx.contentType === '' && (ctx.contentLength === '' || ctx.contentLength === '0');
    if (state.def.body && !bodiless) {
      try {
        if (state.def.protocol) requireContentType(ctx, state.def.protocol.bodyContentTypes);
        else requireJsonContentType(ctx);
        body = readBody(res, ctx, this.#options.maxBodyBytes);
        body.catch(() => undefined); // observed in #run; avoid an unhandled rejection meanwhile
      } catch (err) {
        early = err;
      }
    }
    void this.#run(res, ctx, state, early, body);
  }

  async #run(res: HttpResponse, ctx: RequestContext, state: RouteState, early: unknown, body: Promise<Buffer> | undefined): Promise<void> {
    const { def } = state;
    let reply: Reply;
    let problem: LoggedProblem | undefined;
    try {
      if (early) throw early;
      if (def.access !== 'public') await authorize(ctx, def.access, this.#options.authenticate);
      if (def.guard) await def.guard(ctx);
      if (def.query) ctx.queryParams = state.queries.parse(def.query, ctx);
      if (body && def.body) ctx.body = def.body.parse(parseJson(await body));
      reply = (def.cache && (await this.#fromCache(ctx, def))) || (await def.handler(ctx));
    } catch (err) {
      ({ reply, problem } = problemIn(def.protocol, err, ctx));
    }
    reply = withProtocolHeaders(reply, def.protocol, ctx);
    try {
      if (reply.stream) await writeStream(res, ctx, reply, this.#options.streamStallTimeoutMs);
      else writeReply(res, ctx, reply, { etag: def.etag === true, close: this.#draining });
    } catch (err) {
      // The head is already out (a stream broke, or the socket died): nothing left to answer with.
      this.#options.log.error({ req_id: ctx.requestId, err }, 'response failed after it started');
    }
    this.#finish(ctx, state, problem);
  }

  /**
   * The route's 200 from the response cache (computed once for every request that misses with the
   * same key and data version); undefined when the cache is off or down, or the answer is not a
   * plain 200 JSON body (the caller then runs the handler itself).
   */
  async #fromCache(ctx: RequestContext, def: RouteDefinition): Promise<Reply | undefined> {
    const cache = this.#options.cache;
    if (!cache || !cache.versions.healthy || !def.cache) return undefined;
    // A write another replica acknowledged a moment ago may not have reached this replica's feed
    // yet: wait for it (one shared round trip) so the version below already counts it.
    await cache.versions.fresh();
    if (!cache.versions.healthy) return undefined;
    const key = `${def.path}\n${ctx.rawQuery}\n${ctx.principal?.role ?? 'public'}`;
    const version = cache.versions.version(def.cache.buckets(ctx));
    const cached =
      cache.responses.get(key, version) ??
      (await cache.responses.compute(key, version, async () => {
        const computed = await def.handler(ctx);
        if (computed.status !== 200 || computed.json === undefined || computed.headers || computed.stream || computed.raw) return undefined;
        const payload = Buffer.from(JSON.stringify(computed.json));
        return { contentType: jsonContentType, payload, etag: etagFor(payload) };
      }));
    return cached ? { status: 200, raw: { contentType: cached.contentType, payload: cached.payload }, etag: cached.etag } : undefined;
  }

  #finish(ctx: RequestContext, state: RouteState, problem: LoggedProblem | undefined): void {
    const seconds = (performance.now() - ctx.startedAt) / 1000;
    const status = ctx.aborted && ctx.status === 0 ? 499 : ctx.status;
    state.duration.observe(seconds);
    this.#options.metrics.httpRequests.inc({ route: state.def.path, method: ctx.method, status });
    const { log } = this.#options;
    this.#inflight--;
    if (this.#inflight === 0) this.#idle?.();
    // Quiet routes (heartbeats, probes) and 304s (a client's copy is still current: nothing
    // happened) at the usual level log nothing: skip building the line, which would cost an
    // object and a regex per request on the hottest paths (a revalidation flood: 18.4k -> see
    // docs/operator/scale.md). /metrics counts them all.
    const quiet = state.def.quiet === true || status === 304;
    if (!problem && quiet && !log.isLevelEnabled('debug')) return;
    const line = {
      req_id: ctx.requestId,
      method: scrubForLog(ctx.method, 16),
      path: scrubForLog(ctx.path),
      route: state.def.path,
      status,
      ms: Math.round(seconds * 1e4) / 10,
      bytes: ctx.responseBytes,
      key_id: ctx.principal?.keyId,
    };
    if (problem?.kind === 'internal') {
      log.error({ ...line, err: problem.cause }, 'request failed');
    } else if (problem) {
      if (problem.kind === 'unauthenticated' && !this.#unauthenticatedLines.admit()) return;
      log.info({ ...line, error: problem.code, message: problem.message }, 'request');
    } else if (quiet) {
      log.debug(line, 'request');
    } else {
      log.info(line, 'request');
    }
  }

  /**
   * No route matched: 405 with Allow when the path exists under other methods, else 404; in the
   * terms of the protocol whose routes share the path's first segment, if any.
   */
  #fallback(res: HttpResponse, req: HttpRequest): void {
    const ctx = new RequestContext(req, [], req.getMethod() === 'head', this.#options.trustedProxies);
    res.onAborted(() => {
      ctx.aborted = true;
    });
    const allowed = this.routes.allowed(ctx.path);
    const error =
      allowed.length > 0 ? Errors.methodNotAllowed(allowed) : Errors.notFound(`no route for ${scrubForLog(ctx.method, 16)} ${scrubForLog(ctx.path, 200)}`);
    const protocol = this.routes.protocolFor(ctx.path);
    const reply = withProtocolHeaders(problemIn(protocol, error, ctx).reply, protocol, ctx);
    writeReply(res, ctx, reply, { etag: false, close: this.#draining });
    this.#options.metrics.httpRequests.inc({ route: 'unmatched', method: 'other', status: ctx.status });
    if (!this.#unmatchedLines.admit()) return;
    this.#options.log.info(
      { req_id: ctx.requestId, method: scrubForLog(ctx.method, 16), path: scrubForLog(ctx.path), status: ctx.status },
      allowed.length > 0 ? 'method not allowed' : 'no route',
    );
  }
}

/** `err` rendered by the route's protocol, or as the REST API's error envelope. */
function problemIn(protocol: RouteProtocol | undefined, err: unknown, ctx: RequestContext): { reply: Reply; problem: LoggedProblem } {
  return protocol ? protocol.problem(err, ctx) : problemFor(err, ctx);
}

/**
 * The reply with its protocol's headers added. Link is the one header both may set (ACME: the
 * route's rel="up", the protocol's rel="index"): the values are joined, as RFC 8288 allows.
 */
function withProtocolHeaders(reply: Reply, protocol: RouteProtocol | undefined, ctx: RequestContext): Reply {
  if (!protocol?.headers) return reply;
  const own = reply.headers;
  const added = protocol.headers(ctx);
  const merged = { ...own, ...added };
  if (own?.Link && added.Link) merged.Link = `${own.Link}, ${added.Link}`;
  return { ...reply, headers: merged };
}
