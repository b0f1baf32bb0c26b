/** /metrics: Prometheus text with request, latency, pool, event-loop and engine series; token guard. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateBody, seedInventory, withClient } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { until } from '../support/until.ts';

const token = 'metrics-token-0123456789';
let open: TestServer;
let guarded: TestServer;

beforeAll(async () => {
  [open, guarded] = await Promise.all([startTestServer(), startTestServer({ CERTFLEET_METRICS_TOKEN: token })]);
});
afterAll(() => Promise.all([open.close(), guarded.close()]));

describe('/metrics', () => {
  it('exposes the documented series', async () => {
    await open.request('/health');
    await open.request('/nope');
    const res = await open.request('/metrics', { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/certfleet_http_requests_total\{route="\/health",method="GET",status="200"\} [1-9]/);
    expect(text).toMatch(/certfleet_http_requests_total\{route="unmatched",method="other",status="404"\} 1/);
    expect(text).toMatch(/certfleet_http_request_duration_seconds_bucket\{le="0.005",route="\/health",method="GET"\}/);
    expect(text).toMatch(/certfleet_db_pool_connections\{state="idle"\} \d+/);
    expect(text).toMatch(/certfleet_db_pool_connections\{state="waiting"\} 0/);
    expect(text).toMatch(/certfleet_http_engine_info\{engine="(uWebSockets\.js|node:http)",version="[^"]+"\} 1/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds \d/);
    expect(text).toMatch(/process_resident_memory_bytes \d/);
  });

  it('exposes each scheduler loop: runs, failures, last duration, running', async () => {
    const server = await startTestServer({ CERTFLEET_AGENT_HEALTH_INTERVAL_SECONDS: '1' });
    try {
      const text = await until(
        'a run of the agent-health loop in /metrics',
        async () => {
          const scraped = await (await server.request('/metrics', { auth: null })).text();
          return /certfleet_loop_runs_total\{loop="agent-health"\} [1-9]/.test(scraped) ? scraped : undefined;
        },
        { timeoutMs: 5_000 },
      );
      expect(text).toMatch(/certfleet_loop_runs_total\{loop="agent-health"\} [1-9]/);
      expect(text).toMatch(/certfleet_loop_failures_total\{loop="agent-health"\} 0/);
      expect(text).toMatch(/certfleet_loop_last_duration_seconds\{loop="agent-health"\} \d/);
      expect(text).toMatch(/certfleet_loop_running\{loop="renewal-sweep"\} [01]/);
      expect(text).toMatch(/^certfleet_leader 1$/m);
    } finally {
      await server.close();
    }
  });

  it('requires the token when CERTFLEET_METRICS_TOKEN is set', async () => {
    expect((await guarded.request('/metrics', { auth: null })).status).toBe(401);
    expect((await guarded.request('/metrics', { auth: 'wrong-token-0123456789' })).status).toBe(401);
    expect((await guarded.request('/metrics', { auth: token })).status).toBe(200);
  });
});

describe('certificate and agent series', () => {
  it('counts certificates by issuer, status and time to expiry, as the database has them', async () => {
    const server = await startTestServer({ CERTFLEET_FLEET_METRICS_INTERVAL_SECONDS: '1' });
    try {
      const inv = await seedInventory(server.db.url);
      // Expiries 3, 20, 60 and 200 days out, and one in the past, all Active.
      const offsets = [3, 20, 60, 200, -1];
      for (const [i, days] of offsets.entries()) {
        const res = await server.request('/api/v1/certificates', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(certificateBody(inv, `series-${inv.suffix}-${i}`)),
        });
        const { id } = (await res.json()) as { id: string };
        await withClient(server.db.url, (c) =>
          c.query("UPDATE certificates SET status = 'Active', expires_at = now() + $2 * interval '1 day' WHERE id = $1", [id, days]),
        );
      }
      const expected = ['7d', '30d', '90d', 'later', 'expired'].map(
        (bucket) => `certfleet_certificates{issuer="${inv.issuerId}",status="Active",expires_in="${bucket}"} 1`,
      );
      // Each scrape may start a count; the next one shows it.
      const text = await until(
        'the certificate series in /metrics',
        async () => {
          const scraped = await (await server.request('/metrics', { auth: null })).text();
          return expected.every((line) => scraped.includes(line)) ? scraped : undefined;
        },
        { timeoutMs: 5_000 },
      ).catch(async () => (await server.request('/metrics', { auth: null })).text());
      for (const line of expected) expect(text).toContain(line);
      expect(text).toMatch(/^certfleet_fleet_counted_timestamp_seconds \d{10}$/m);
    } finally {
      await server.close();
    }
  });
});

describe('/metrics naming', () => {
  it('passes `promtool check metrics` (counters end in _total, nothing else does)', async () => {
    // A scrape after some traffic and loop runs, so every family has samples.
    await open.request('/api/v1/certificates');
    const text = await (await open.request('/metrics', { auth: null })).text();
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error, 'promtool (Debian package prometheus) is installed by scripts/install-test-deps.sh').toBeUndefined();
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
    expect(text).toMatch(/^# TYPE certfleet_heartbeats_recorded_total counter$/m);
  });
});

describe('shipped alerting rules and dashboard (docs/operator)', () => {
  const operatorDir = path.resolve(import.meta.dirname, '../../docs/operator');
  const promtool = (args: string[]) => spawnSync('promtool', args, { cwd: operatorDir, encoding: 'utf8' });

  it('the rules load, and their unit tests pass (promtool)', () => {
    const check = promtool(['check', 'rules', 'prometheus-rules.yaml']);
    expect(check.status, `${check.stdout}${check.stderr}`).toBe(0);
    const unit = promtool(['test', 'rules', 'prometheus-rules.test.yaml']);
    expect(unit.status, `${unit.stdout}${unit.stderr}`).toBe(0);
  });

  it('use only series a real scrape has', async () => {
    const scrape = await (await open.request('/metrics', { auth: null })).text();
    const families = new Set(
      [...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
      ),
    );
    const dashboard = JSON.parse(fs.readFileSync(path.join(operatorDir, 'grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const expressions = [
      ...[...fs.readFileSync(path.join(operatorDir, 'prometheus-rules.yaml'), 'utf8').matchAll(/^\s*expr: (.+)$/gm)].map((m) => m[1]!),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ];
    // Exported only with TLS configured (this server has none); test/integration/tls-reload.test.ts scrapes it.
    families.add('certfleet_tls_certificate_expiry_timestamp_seconds');
    const used = new Set(expressions.flatMap((e) => e.match(/\b(?:certfleet|nodejs|process)_[a-z0-9_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !families.has(name))).toEqual([]);
  });
});

describe('/health', () => {
  it('needs no credentials and names the HTTP engine', async () => {
    const body = (await (await open.request('/health', { auth: null })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'ok', version: expect.any(String), caches: 'coherent' });
    expect(body.http_engine).toMatchObject({ name: expect.stringMatching(/uWebSockets\.js|node:http/) });
  });
});
