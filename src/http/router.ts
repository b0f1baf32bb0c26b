/**
 * Route definitions and how they are matched. Matching itself is uWS's router
 * (`app.get('/api/v1/x/:id', ...)`); this module only describes routes declaratively and answers
 * what uWS cannot: which methods a path allows (for 405 + Allow) when no route matched.
 */
import type { ZodType } from 'zod';
import type { AppError } from '../errors.ts';
import type { Permission } from '../services/auth/permissions.ts';
import type { Reply, RequestContext } from './context.ts';

/** What the access log needs to know of a failed request. */
export type LoggedProblem = Pick<AppError, 'kind' | 'code' | 'message' | 'cause'>;

/**
 * A protocol other than the REST API's (ACME): how its request bodies are typed, how its errors
 * are written, and headers every one of its responses carries. Routes without one speak the
 * REST envelope (src/http/problems.ts) and take application/json. The body limit, abort
 * handling, metrics and access log are the same for every protocol.
 */
export interface RouteProtocol {
  /** Body media types accepted, lower-case and without parameters (anything else is 415). */
  bodyContentTypes: readonly string[];
  /** Renders anything the route threw (its body limit and content-type errors included). */
  problem(err: unknown, ctx: RequestContext): { reply: Reply; problem: LoggedProblem };
  /** Headers added to every response of the route, errors included (ACME: Replay-Nonce). */
  headers?(ctx: RequestContext): Record<string, string>;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Handler<B = unknown, Q = unknown> = (ctx: RequestContext<B, Q>) => Reply | Promise<Reply>;

/**
 * A route. `B` and `Q` are what its body and query schemas produce: build routes with `route()`
 * so the handler's `ctx.body` and `ctx.queryParams` carry those types (no casts).
 */
export interface RouteDefinition<B = unknown, Q = unknown> {
  method: Method;
  /** uWS pattern: literal segments and `:name` parameters. */
  path: string;
  /** One line for docs/openapi.yaml. */
  summary: string;
  /** 'public' needs no credentials; otherwise the permission the caller's key must hold. */
  access: Permission | 'public';
  /**
   * A credential check of the route's own (a public route with its own token: agent
   * registration's bootstrap token), run where authentication runs: before the body is parsed,
   * so a caller without credentials learns 401, not what is wrong with its body.
   */
  guard?: (ctx: RequestContext<B, Q>) => void | Promise<void>;
  /** JSON body schema: the body must be application/json and is parsed into ctx.body. */
  body?: ZodType<B>;
  /** A request without a body (no Content-Type, no length) is accepted; ctx.body stays undefined. */
  bodyOptional?: boolean;
  /** Query-string schema: parsed (after authorization) into ctx.queryParams; 400 names the parameter. */
  query?: ZodType<Q>;
  /** The success response, for docs/openapi.yaml. Default: 200 application/json. */
  response?: { status?: number; schema?: ZodType; contentType?: string; description?: string };
  /** Strong ETag + If-None-Match on 200 responses (GET/HEAD). */
  etag?: boolean;
  /**
   * Serve 200 responses from the response cache (src/http/response-cache.ts) while the data they
   * depend on is unchanged: `buckets` names the change-feed buckets this request depends on
   * (undefined: all of them). Only for handlers whose answer depends on nothing but the query
   * and the caller's role.
   */
  cache?: { buckets(ctx: RequestContext<B, Q>): readonly string[] | undefined };
  /** A protocol of its own (ACME); default: the REST API's JSON envelope. */
  protocol?: RouteProtocol;
  /** Access-log at debug instead of info (probes and scrapes that would flood the log). */
  quiet?: boolean;
  handler(ctx: RequestContext<B, Q>): Reply | Promise<Reply>;
}

/** A route whose handler sees its own body and query types; erased for the route lists. */
export function route<B = unknown, Q = unknown>(def: RouteDefinition<B, Q>): RouteDefinition {
  return def as unknown as RouteDefinition;
}

export function paramNames(pattern: string): string[] {
  return pattern
    .split('/')
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => segment.slice(1));
}

interface CompiledPattern {
  regex: RegExp;
  methods: Set<string>;
}

/** Knows every registered pattern; used only on the 404/405 fallback path, never per request. */
export class MethodIndex {
  readonly #patterns = new Map<string, CompiledPattern>();
  /**
   * First path segment -> the protocol of the routes under it (`acme` -> ACME), for the fallback.
   * The last route added under a segment sets it: ACME's directory speaks a variant without the
   * index Link, and every ACME route added after it speaks the full protocol.
   */
  readonly #protocols = new Map<string, RouteProtocol>();

  add(route: RouteDefinition): void {
    if (route.protocol) this.#protocols.set(firstSegment(route.path), route.protocol);
    let entry = this.#patterns.get(route.path);
    if (!entry) {
      const source = route.path
        .split('/')
        .map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      entry = { regex: new RegExp(`^${source}/?$`), methods: new Set() };
      this.#patterns.set(route.path, entry);
    }
    entry.methods.add(route.method);
    if (route.method === 'GET') entry.methods.add('HEAD');
  }

  /** Methods allowed on `path`, sorted; empty when no route pattern matches it. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const entry of this.#patterns.values()) {
      if (entry.regex.test(path)) for (const m of entry.methods) methods.add(m);
    }
    return [...methods].sort();
  }

  /**
   * The protocol of the routes under `path`'s first segment: a client that mistypes a URL under
   * /acme/ gets an ACME problem document with a nonce, as its library expects, not the REST
   * API's error envelope.
   */
  protocolFor(path: string): RouteProtocol | undefined {
    return this.#protocols.get(firstSegment(path));
  }

  /** Every registered (method, pattern) pair: the OpenAPI coverage test reads this. */
  list(): Array<{ method: string; path: string }> {
    const out: Array<{ method: string; path: string }> = [];
    for (const [path, entry] of this.#patterns) for (const method of entry.methods) out.push({ method, path });
    return out;
  }
}

function firstSegment(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path.slice(1) : path.slice(1, end);
}
