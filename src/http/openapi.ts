/**
 * Builds docs/openapi.yaml (OpenAPI 3.1) from the route definitions: paths, parameters,
 * request bodies and success responses as named component schemas (`Certificate`,
 * `CertificateList`, `CreateCertificateRequest`: what client generators name their types
 * after), every error status a route can answer (JSON envelope, or ACME problem documents),
 * tags per resource and operationIds.
 * `npm run openapi` writes the file; test/docs/openapi.test.ts fails when it is stale or when
 * the server's routes and the document disagree.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { ErrorSchema } from './routes/common/responses.ts';
import type { RouteDefinition } from './router.ts';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return withoutDateTimePatterns(rest) as JsonSchema;
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const pascal = (words: string) =>
  words
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');

/** Resources whose path does not spell their name. */
const resourceNames: Record<string, string> = { audit: 'AuditEvent', 'auth/keys': 'ApiKey' };

/** `renewal-policies` -> `RenewalPolicy`, `auth/keys` -> `ApiKey`. */
function singular(resource: string): string {
  const named = resourceNames[resource];
  if (named) return named;
  const word = pascal(resource);
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s')) return word.slice(0, -1);
  return word;
}

const collection = /^\/api\/v1\/((?:auth\/)?(?:acme\/)?[a-z-]+)$/;
const item = /^\/api\/v1\/((?:auth\/)?(?:acme\/)?[a-z-]+)\/:id$/;

/** The component name of a route's response: the resource's own name where there is one. */
function responseName(route: RouteDefinition): string {
  const ofCollection = collection.exec(route.path)?.[1];
  const ofItem = item.exec(route.path)?.[1];
  if (route.method === 'GET' && ofItem) return singular(ofItem);
  if (route.method === 'GET' && ofCollection) return `${singular(ofCollection)}List`;
  // What a create answers: the resource itself, or (when it differs, e.g. with a one-time secret) its own name.
  if (route.method === 'POST' && ofCollection) return `${singular(ofCollection)}Created`;
  if ((route.method === 'PATCH' || route.method === 'PUT') && ofItem) return singular(ofItem);
  return `${pascal(operationIdOf(route.method, route.path))}Response`;
}

function requestName(route: RouteDefinition): string {
  const ofCollection = collection.exec(route.path)?.[1];
  const ofItem = item.exec(route.path)?.[1];
  if (route.method === 'POST' && ofCollection) return `Create${singular(ofCollection)}Request`;
  if ((route.method === 'PATCH' || route.method === 'PUT') && ofItem) return `Update${singular(ofItem)}Request`;
  return `${pascal(operationIdOf(route.method, route.path))}Request`;
}

/**
 * Names every body and response schema once (the same zod object keeps its first name wherever
 * it appears, nested in a list envelope included) and renders them together, so shared shapes
 * become `$ref`s to one component.
 */
class ComponentSchemas {
  readonly #names = new Map<z.ZodType, string>();
  readonly #taken = new Set<string>();
  readonly #registries = { input: z.registry<{ id: string }>(), output: z.registry<{ id: string }>() };

  name(schema: z.ZodType, io: 'input' | 'output', wanted: string): string {
    const known = this.#names.get(schema);
    if (known) return known;
    let name = wanted;
    for (let n = 2; this.#taken.has(name); n++) name = `${wanted}${n}`;
    this.#taken.add(name);
    this.#names.set(schema, name);
    this.#registries[io].add(schema, { id: name });
    return name;
  }

  render(): Record<string, JsonSchema> {
    const out: Record<string, JsonSchema> = {};
    for (const io of ['output', 'input'] as const) {
      const { schemas } = z.toJSONSchema(this.#registries[io], { io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as {
        schemas: Record<string, JsonSchema>;
      };
      for (const [name, schema] of Object.entries(schemas)) {
        const { $schema: _, $id: _id, ...rest } = schema;
        out[name] = withoutDateTimePatterns(rest) as JsonSchema;
      }
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** zod spells out `format: date-time` as a 300-character regex too; the format says it all. */
function withoutDateTimePatterns(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutDateTimePatterns);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (key === 'pattern' && record.format === 'date-time') continue;
    out[key] = withoutDateTimePatterns(value);
  }
  return out;
}

/** `/api/v1/teams/:id` -> `/api/v1/teams/{id}` */
export function openApiPath(uwsPath: string): string {
  return uwsPath.replace(/:([A-Za-z_]+)/g, '{$1}');
}

/** The resource a route belongs to, as its tag: `/api/v1/<resource>/...`, ACME, PKI or operations. */
export function tagOf(path: string): string {
  if (path.startsWith('/acme')) return 'acme';
  if (path.startsWith('/.well-known/pki')) return 'pki';
  const resource = /^\/api\/v1\/([a-z-]+)/.exec(path)?.[1];
  return resource ?? 'operations';
}

const tagDescriptions: Record<string, string> = {
  acme: 'ACME server (RFC 8555, RFC 9773 renewal info, profiles); errors are problem documents (docs/acme.md)',
  pki: 'CRLs of the local issuers',
  operations: 'Liveness, readiness and Prometheus metrics',
};

/**
 * `GET /api/v1/certificates/:id/versions` -> `getCertificatesByIdVersions`: the method, then the
 * path's words without the `/api/v1` prefix, parameters as `By<Name>`. Unique per route, and
 * identifiers every client generator accepts.
 */
export function operationIdOf(method: string, path: string): string {
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const words = path
    .replace(/^\/api\/v1\//, '/')
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const param = segment.startsWith(':');
      const name = segment
        .replace(/^:/, '')
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map(cap)
        .join('');
      return param ? `By${name}` : name;
    });
  return `${method.toLowerCase()}${words.join('')}`;
}

/** Agent routes (`/api/v1/agents/:id/...`, an agent's own key) answer 410 once it is retired. */
const agentScoped = /^\/api\/v1\/agents\/:id\/./;
/** Routes that never reach the database (everything else can answer 503 while it is away). */
const withoutDatabase = new Set(['/health', '/metrics']);

function operation(route: RouteDefinition, components: ComponentSchemas): Record<string, unknown> {
  const errorResponse = (description: string) =>
    route.protocol
      ? { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/AcmeProblem' } } } }
      : { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const parameters: unknown[] = [];
  for (const name of route.path.match(/:([A-Za-z_]+)/g) ?? []) {
    parameters.push({ name: name.slice(1), in: 'path', required: true, schema: { type: 'string' } });
  }
  if (route.query) {
    const q = jsonSchema(route.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: 'query', required: q.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest });
    }
  }
  const status = String(route.response?.status ?? 200);
  const contentType = route.response?.contentType ?? 'application/json';
  const success: Record<string, unknown> = { description: route.response?.description ?? route.summary };
  if (status !== '204' && (route.response?.schema || contentType !== 'application/json')) {
    const schema = route.response?.schema;
    success.content = { [contentType]: schema ? { schema: schemaRef(components.name(schema, 'output', responseName(route))) } : {} };
  }
  const responses: Record<string, unknown> = { [status]: success };
  if (route.etag || route.cache) responses['304'] = { description: 'Not modified: If-None-Match matched the current ETag (no body)' };
  if (route.body || route.query || route.path.includes(':')) responses['400'] = errorResponse('Invalid request; the message names the field');
  if (route.access !== 'public') {
    responses['401'] = errorResponse('Missing, unknown, revoked or expired API key');
    responses['403'] = errorResponse(`The key lacks the permission ${route.access}`);
  }
  if (route.path.includes(':')) responses['404'] = errorResponse('No such resource');
  if (agentScoped.test(route.path)) responses['410'] = errorResponse('The agent is retired');
  if (route.method !== 'GET' && route.access !== 'public') responses['409'] = errorResponse('Conflicts with existing state');
  if (route.body) {
    responses['413'] = errorResponse('Body larger than CERTFLEET_MAX_BODY_BYTES');
    responses['415'] = errorResponse('Content-Type is not application/json');
  }
  if (!withoutDatabase.has(route.path)) responses['503'] = errorResponse('The database is unreachable or overloaded (Retry-After says when to retry)');
  return {
    operationId: operationIdOf(route.method, route.path),
    summary: route.summary,
    tags: [tagOf(route.path)],
    ...(route.path === '/metrics' ? { security: [{}, { metricsToken: [] }] } : route.access === 'public' ? { security: [] } : { 'x-permission': route.access }),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemaRef(components.name(route.body, 'input', requestName(route))) } } } }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(routes: readonly RouteDefinition[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components = new ComponentSchemas();
  // Items before lists, so a list envelope refers to its item's name rather than naming it.
  const itemsFirst = [...routes].sort((a, b) => Number(!item.test(a.path)) - Number(!item.test(b.path)));
  for (const route of itemsFirst) if (route.method === 'GET' && route.response?.schema) components.name(route.response.schema, 'output', responseName(route));
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route, components);
  }
  const tags = [...new Set(routes.map((r) => tagOf(r.path)))]
    .sort()
    .map((name) => ({ name, ...(tagDescriptions[name] ? { description: tagDescriptions[name] } : {}) }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'certfleet',
      version,
      description:
        'Certificate lifecycle control plane. Generated from the route definitions by `npm run openapi`; do not edit. ' +
        'Every GET also answers HEAD. Errors: docs/errors.md.',
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    security: [{ bearer: [] }],
    tags,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (cfk_...)' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'CERTFLEET_METRICS_TOKEN, required by /metrics when it is set' },
      },
      schemas: {
        ...components.render(),
        Error: jsonSchema(ErrorSchema, 'output'),
        AcmeProblem: {
          type: 'object',
          description: 'RFC 7807 problem document with an ACME error type (RFC 8555 6.7)',
          required: ['type', 'detail', 'status'],
          properties: {
            type: { type: 'string', examples: ['urn:ietf:params:acme:error:badNonce'] },
            detail: { type: 'string' },
            status: { type: 'integer' },
            subproblems: {
              type: 'array',
              items: { type: 'object', properties: { type: { type: 'string' }, detail: { type: 'string' }, identifier: { type: 'object' } } },
            },
          },
        },
      },
    },
    paths,
  };
}

export function renderOpenApiYaml(routes: readonly RouteDefinition[], version: string): string {
  return `# Generated by \`npm run openapi\` from src/http/routes; do not edit by hand.\n${stringify(buildOpenApiDocument(routes, version), { lineWidth: 0 })}`;
}
