/**
 * Builds docs/openapi.yaml (OpenAPI 3.1) from the route definitions: paths, parameters,
 * request bodies (the routes' zod schemas), success responses and the error envelope.
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

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function operation(route: RouteDefinition): Record<string, unknown> {
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
  if (route.body || route.query || route.path.includes(':')) responses['400'] = errorResponse('Invalid request; the message names the field');
  if (route.access !== 'public') {
    responses['401'] = errorResponse('Missing, unknown, revoked or expired API key');
    responses['403'] = errorResponse(`The key lacks the permission ${route.access}`);
  }
  if (route.path.includes(':')) responses['404'] = errorResponse('No such resource');
  if (route.method !== 'GET' && route.access !== 'public') responses['409'] = errorResponse('Conflicts with existing state');
  if (route.body) {
    responses['413'] = errorResponse('Body larger than CERTFLEET_MAX_BODY_BYTES');
    responses['415'] = errorResponse('Content-Type is not application/json');
  }
  if (route.path === '/ready') responses['503'] = errorResponse('The database is unreachable');
  return {
    operationId: `${route.method.toLowerCase()}${openApiPath(route.path)
      .replace(/[{}]/g, '')
      .split(/[/-]/)
      .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
      .join('')}`,
    summary: route.summary,
    ...(route.access === 'public' ? { security: [] } : { 'x-permission': route.access }),
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
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (cfk_...)' } },
      schemas: { Error: jsonSchema(ErrorSchema, 'output') },
    },
    paths,
  };
}

export function renderOpenApiYaml(routes: readonly RouteDefinition[], version: string): string {
  return `# Generated by \`npm run openapi\` from src/http/routes; do not edit by hand.\n${stringify(buildOpenApiDocument(routes, version), { lineWidth: 0 })}`;
}
