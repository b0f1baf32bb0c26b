/**
 * Builds docs/openapi.yaml (OpenAPI 3.1) from the route definitions: paths, parameters,
 * request bodies (the routes' zod schemas), success responses, every error status a route can
 * answer (JSON envelope, or ACME problem documents), tags per resource and operationIds.
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

function operation(route: RouteDefinition): Record<string, unknown> {
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
    success.content = { [contentType]: route.response?.schema ? { schema: jsonSchema(route.response.schema, 'output') } : {} };
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
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(routes: readonly RouteDefinition[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
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
