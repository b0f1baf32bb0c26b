/**
 * Property-based fuzzing of every route in docs/openapi.yaml over real HTTP (issue 12). Each
 * generated request is either
 * - proper: the route's own credential, ids that exist, a body and query generated valid from
 *   the route's own schemas, so it reaches the handler and the database; or
 * - hostile: any credential, hostile path parameters, wrong types, extra keys, hostile text
 *   (lone surrogates, NUL, RTL, combining marks, 70 kB strings), invalid UTF-8, deep nesting,
 *   truncated JSON, odd content types.
 * Property: never a 5xx, no internal error in the log, and /health still answers afterwards.
 *
 * CI runs a fixed seed and a bounded count; `CERTFLEET_FUZZ_RUNS=20000 npm run faults` runs
 * long with fresh seeds (docs/operator/reliability.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { arbitraryFor, bodyFor, hostileUrlText, useKnownIds, type JsonSchema } from '../support/fuzz-values.ts';
import { certificateBody } from '../support/fixtures.ts';
import { adminKey } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

const runs = Number(process.env.CERTFLEET_FUZZ_RUNS ?? 1500);
const seed = Number(process.env.CERTFLEET_FUZZ_SEED ?? 20261201);
const bootstrap = 'bootstrap-token-0123456789abcdef';

interface Operation {
  method: string;
  path: string;
  query: Record<string, JsonSchema>;
  body: JsonSchema | undefined;
}

const document = parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/openapi.yaml'), 'utf8')) as {
  paths: Record<
    string,
    Record<string, { parameters?: Array<{ name: string; in: string; schema: JsonSchema }>; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
  >;
};
const operations: Operation[] = Object.entries(document.paths).flatMap(([p, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    method: method.toUpperCase(),
    path: p,
    query: Object.fromEntries((op.parameters ?? []).filter((x) => x.in === 'query').map((x) => [x.name, x.schema])),
    body: op.requestBody?.content['application/json']?.schema,
  })),
);

/** Path prefix (or parameter name) -> an id that exists there. */
let idsByResource: Map<string, string>;
let deletable: Map<string, string>;
let agentKey: string;
let credentials: Array<string | null>;

const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });

beforeAll(async () => {
  const post = async (url: string, body: unknown, auth?: string) =>
    (await (
      await world.server.request(url, {
        method: 'POST',
        ...(auth ? { auth } : {}),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json()) as Record<string, string>;
  const agent = await post('/api/v1/agents', { name: `fuzz-agent-${world.inv.suffix}` }, bootstrap);
  await post('/api/v1/targets', { name: `fuzz-target-${world.inv.suffix}`, type: 'NGINX', agent_id: agent.id! });
  const cert = await post('/api/v1/certificates', certificateBody(world.inv, `fuzz-${world.inv.suffix}`));
  // DELETEs get their own victims, so the ones above stay usable for the rest of the run.
  const doomed = await post('/api/v1/certificates', certificateBody(world.inv, `fuzz-doomed-${world.inv.suffix}`));
  deletable = new Map([
    ['certificates', doomed.id!],
    ['agents', world.inv.agentId],
  ]);
  const viewer = await post('/api/v1/auth/keys', { name: 'fuzz-viewer', role: 'viewer' });
  const spare = await post('/api/v1/auth/keys', { name: 'fuzz-spare', role: 'operator' });
  agentKey = agent.api_key!;
  idsByResource = new Map([
    ['teams', world.inv.teamId],
    ['owners', world.inv.ownerId],
    ['issuers', world.inv.issuerId],
    ['issuer_id', world.inv.issuerId],
    ['renewal-policies', world.inv.policyId],
    ['profiles', world.inv.profileId],
    ['targets', world.inv.targetId],
    ['certificates', cert.id!],
    ['cert_id', cert.id!],
    ['agents', agent.id!],
    ['keys', spare.id!],
    ['loops', 'agent-health'],
  ]);
  useKnownIds([...idsByResource.values()]);
  credentials = [adminKey, viewer.key!, agentKey, bootstrap, null, 'cfk_unknown', 'x'.repeat(600)];
});

/** The id a proper request uses for `{param}` of `route`. */
function idFor(op: Operation, param: string): string {
  const byName = idsByResource.get(param);
  if (byName) return byName;
  const before =
    op.path
      .slice(0, op.path.indexOf(`{${param}}`))
      .split('/')
      .filter(Boolean)
      .pop() ?? '';
  if (op.method === 'DELETE' && deletable.has(before)) return deletable.get(before)!;
  return idsByResource.get(before) ?? 'unknown-id';
}

/** The credential a route wants: agent routes their agent's key, registration the bootstrap token. */
function properCredential(op: Operation): string {
  if (op.path.startsWith('/api/v1/agents/{id}/') && !op.path.endsWith('/discoveries')) return agentKey;
  if (op.path === '/api/v1/agents' && op.method === 'POST') return bootstrap;
  if (op.path.endsWith('/discoveries')) return agentKey;
  return adminKey;
}

const request = fc.record({
  op: fc.integer({ min: 0, max: operations.length - 1 }),
  proper: fc.boolean(),
  param: hostileUrlText,
  credential: fc.nat(),
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/merge-patch+json',
    'text/plain',
    '',
    'application/json; charset=utf-16',
  ),
  extraQuery: fc.dictionary(fc.string({ maxLength: 8 }), hostileUrlText, { maxKeys: 2 }),
});

function queryFor(op: Operation, proper: boolean): fc.Arbitrary<Record<string, string>> {
  const values = Object.fromEntries(
    Object.entries(op.query)
      .filter(([name]) => !proper || name !== 'cursor')
      .map(([name, schema]) => [
        name,
        proper
          ? arbitraryFor(schema, 0, name, true).map(String)
          : fc.oneof(
              arbitraryFor(schema, 0, name).map((v) => String(v).slice(0, 900)),
              hostileUrlText,
            ),
      ]),
  );
  return fc.record(values, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
}

describe(`every route of docs/openapi.yaml (${operations.length} operations)`, () => {
  it(`answers ${runs} generated requests without a 5xx (seed ${seed})`, async () => {
    const byClass = new Map<string, number>();
    const reached = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        request.chain((r) => {
          const op = operations[r.op]!;
          const body = r.proper && op.body ? arbitraryFor(op.body, 0, '', true).map((v) => JSON.stringify(v)) : bodyFor(op.body);
          return fc.tuple(fc.constant(r), queryFor(op, r.proper), body);
        }),
        async ([r, query, body]) => {
          const op = operations[r.op]!;
          const url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
            encodeURIComponent(r.proper ? idFor(op, name) : r.param.isWellFormed() ? r.param : 'x'),
          );
          const params = r.proper ? query : { ...query, ...r.extraQuery };
          // A valid ?wait= holds a work poll that long (up to 55 s): at most 1 s here, so the run stays short.
          const wait = Number(params.wait);
          if (params.wait?.trim() && wait > 1 && wait <= 55) params.wait = '1';
          const qs = new URLSearchParams(params).toString();
          const headers: Record<string, string> = {};
          const sendBody = op.method === 'GET' || op.method === 'DELETE' ? undefined : body;
          if (sendBody !== undefined) headers['content-type'] = r.proper ? 'application/json' : r.contentType;
          const res = await world.server.request(`${url}${qs ? `?${qs}` : ''}`, {
            method: op.method,
            auth: r.proper ? properCredential(op) : credentials[r.credential % credentials.length]!,
            headers,
            body: sendBody,
          });
          await res.arrayBuffer();
          const statusClass = `${Math.floor(res.status / 100)}xx`;
          byClass.set(statusClass, (byClass.get(statusClass) ?? 0) + 1);
          if (res.status < 400) reached.add(`${op.method} ${op.path}`);
          expect(res.status, `${op.method} ${url}?${qs}`).toBeLessThan(500);
        },
      ),
      { numRuns: runs, seed, endOnFailure: true },
    );
    console.log(
      `api fuzz: ${runs} requests, ${JSON.stringify(Object.fromEntries(byClass))}; ${reached.size} of ${operations.length} operations answered below 400 at least once`,
    );
    expect((await fetch(`${world.server.url}/health`)).status).toBe(200);
    expect(world.server.logLines.filter((l) => l.includes('"level":50'))).toEqual([]);
    // The generator gets past validation into the handlers, not only into 4xx.
    expect(byClass.get('2xx') ?? 0).toBeGreaterThan(runs * 0.2);
  }, 300_000);
});
