/**
 * docs/openapi.yaml is generated from the route definitions and must be committed fresh, and the
 * running server must answer exactly the routes the document lists (every GET also HEAD).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderOpenApiYaml } from '../../src/http/openapi.ts';
import { version } from '../../src/version.ts';
import { documentedRoutes } from '../support/documented-routes.ts';
import { certificateBody, withClient } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const file = new URL('../../docs/openapi.yaml', import.meta.url);
const committed = fs.readFileSync(file, 'utf8');
type Operation = {
  summary?: string;
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
};
const document = parse(committed) as { openapi: string; tags: Array<{ name: string }>; paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(document.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

const world = useTestWorld();

describe('docs/openapi.yaml', () => {
  it('is up to date with the route definitions (run `npm run openapi`)', () => {
    expect(committed).toBe(renderOpenApiYaml(documentedRoutes(), version));
  });

  it('lists exactly the routes the world.server registers', () => {
    const documented = Object.entries(document.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const served = world.server.app.routes
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`)
      .sort();
    expect(documented).toEqual(served);
    expect(document.openapi).toBe('3.1.0');
  });

  it('gives every operation a summary and a success response', () => {
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        expect(
          Object.keys(op.responses).some((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).toBe(true);
      }
    }
  });
});

describe('what a client generator needs', () => {
  it('gives every operation a unique operationId and one declared tag', () => {
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const declared = new Set(document.tags.map((t) => t.name));
    for (const { path, method, op } of operations) expect(op.tags?.length === 1 && declared.has(op.tags[0]!), `${method} ${path}`).toBe(true);
    expect([...declared]).toEqual(expect.arrayContaining(['acme', 'certificates', 'agents', 'operations', 'pki']));
  });

  it('documents the statuses routes really answer: 304, 410, 503, problem documents for ACME', () => {
    const op = (method: string, path: string) => document.paths[path]![method]!;
    expect(Object.keys(op('get', '/api/v1/certificates').responses)).toEqual(expect.arrayContaining(['200', '304', '400', '401', '503']));
    expect(Object.keys(op('post', '/api/v1/agents/{id}/heartbeat').responses)).toContain('410');
    expect(op('get', '/health').responses['503']).toBeUndefined();
    expect(op('post', '/acme/new-order').responses['400']!.content).toHaveProperty(['application/problem+json']);
    expect(op('get', '/metrics').security).toEqual([{}, { metricsToken: [] }]);
  });
});

describe('client generation', () => {
  it('gives openapi-typescript (which validates the document first) named types that compile', async () => {
    const { default: openapiTS, astToString } = await import('openapi-typescript');
    const types = astToString(await openapiTS(file));
    for (const name of ['Certificate', 'CertificateList', 'CreateCertificateRequest', 'UpdateCertificateRequest', 'ApiKeyCreated', 'Error', 'AcmeProblem']) {
      expect(types, name).toMatch(new RegExp(`\\n\\s+${name}: \\{`));
    }
    // The list's items are the item's own type, not a copy.
    expect(types).toMatch(/CertificateList: \{[^}]*data: components\["schemas"\]\["Certificate"\]\[\];/);
    for (const { op } of operations) expect(types).toContain(`${op.operationId}: {`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-openapi-'));
    try {
      fs.writeFileSync(path.join(dir, 'certfleet.ts'), `${types}\nexport type Cert = components['schemas']['Certificate']['id'];\n`);
      const tsc = path.resolve(import.meta.dirname, '../../node_modules/typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', path.join(dir, 'certfleet.ts')], {
        stdio: 'pipe',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('documented response schemas', () => {
  it('accept what the world.server actually returns', async () => {
    const cert = (await (
      await world.server.request('/api/v1/certificates', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(certificateBody(world.inv, `doc-${world.inv.suffix}`, { target_ids: [world.inv.targetId] })),
      })
    ).json()) as { id: string };
    const job = (await (await world.server.request(`/api/v1/certificates/${cert.id}/renew`, { method: 'POST' })).json()) as { job_id: string };
    const discovered = `dcert-${world.inv.suffix}`;
    await withClient(world.server.db.url, (c) =>
      c.query(
        `INSERT INTO discovered_certificates (id, fingerprint_sha256, common_name, serial_number, issuer_dn, subject_dn, not_before,
                not_after, key_algorithm, key_size, is_ca, pem_data, source_path, source_format, agent_id)
         VALUES ($1, 'ff', 'doc.example.test', '1', 'CN=ca', 'CN=doc', now(), now() + interval '1 day', 'ECDSA', 256, false, '', '/x.pem', 'PEM', $2)`,
        [discovered, world.inv.agentId],
      ),
    );
    const ids: Record<string, string> = {
      '/api/v1/jobs': job.job_id,
      '/api/v1/teams': world.inv.teamId,
      '/api/v1/owners': world.inv.ownerId,
      '/api/v1/issuers': world.inv.issuerId,
      '/api/v1/renewal-policies': world.inv.policyId,
      '/api/v1/profiles': world.inv.profileId,
      '/api/v1/targets': world.inv.targetId,
      '/api/v1/certificates': cert.id,
      '/api/v1/agents': world.inv.agentId,
      '/api/v1/discovered-certificates': discovered,
    };
    const auditId = ((await (await world.server.request('/api/v1/audit?per_page=1')).json()) as { data: Array<{ id: string }> }).data[0]!.id;
    const keyId = ((await (await world.server.request('/api/v1/auth/keys')).json()) as { data: Array<{ id: string }> }).data[0]!.id;
    const eabKey = await world.server.request('/api/v1/acme/eab-keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":"doc"}',
    });
    const eabCreated = (await eabKey.json()) as Record<string, unknown>;
    const eabCreatedSchema = documentedRoutes().find((r) => r.method === 'POST' && r.path === '/api/v1/acme/eab-keys')!.response!.schema!;
    expect(eabCreatedSchema.safeParse(eabCreated).success).toBe(true);
    ids['/api/v1/acme/eab-keys'] = eabCreated.id as string;
    let checked = 0;
    for (const route of documentedRoutes()) {
      if (route.method !== 'GET' || !route.response?.schema || route.response.contentType) continue;
      // Agent-only routes answer only the agent's own key: test/integration/agent-work.test.ts checks them.
      if (route.access === 'agent.self') continue;
      const id = route.path.startsWith('/api/v1/audit')
        ? auditId
        : route.path.startsWith('/api/v1/auth/keys')
          ? keyId
          : ids[route.path.replace(/\/:id.*$/, '')];
      const path = route.path.replace(':id', id ?? 'missing');
      const res = await world.server.request(path);
      expect(res.status, path).toBe(200);
      const parsed = route.response.schema.safeParse(await res.json());
      expect(parsed.success, `${path}: ${parsed.error?.message}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });
});
