/**
 * The load engine against the real server: what it counts must be what the server did (the
 * database and fetch, i.e. undici, are the oracles), in both executors; bodies with
 * Content-Length are framed correctly; unexpected statuses are counted, not hidden.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../test/support/server.ts';
import { withClient } from '../../test/support/fixtures.ts';
import { delayBeyond, lagMonitor, prepareRequest, runLoad } from './engine.ts';
import { loopbackTls } from './pebble.ts';
import { bindPsqlVariables, loadAgentId, loadAgentKey, runSeed } from './seed.ts';
import { evaluateThresholds, quantile, summarize } from './stats.ts';

const seed = 'engine-test-seed';
const agents = 50;
let server: TestServer;
let host: string;
let port: number;

beforeAll(async () => {
  server = await startTestServer();
  await runSeed(server.db.url, 'agents.sql', agents, seed, undefined, 20);
  const url = new URL(server.url);
  host = url.host;
  port = Number(url.port);
});
afterAll(() => server.close());

const heartbeat = (i: number) => {
  const id = loadAgentId((i % agents) + 1);
  return prepareRequest(host, {
    method: 'POST',
    path: `/api/v1/agents/${id}/heartbeat`,
    headers: { Authorization: `Bearer ${loadAgentKey(seed, id)}` },
    expect: 200,
  });
};
const recorded = () =>
  withClient(server.db.url, async (c) =>
    Number((await c.query("SELECT sum(heartbeats) AS n FROM agent_liveness WHERE agent_id LIKE 'load-agent-%'")).rows[0].n),
  );

describe('seeded load agents', () => {
  it('authenticate with the keys the driver derives (SQL and Node agree)', async () => {
    const id = loadAgentId(7);
    const ok = await fetch(`${server.url}/api/v1/agents/${id}/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${loadAgentKey(seed, id)}` } });
    expect(ok.status).toBe(200);
    const other = await fetch(`${server.url}/api/v1/agents/${loadAgentId(8)}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${loadAgentKey(seed, id)}` },
    });
    expect(other.status).toBe(403); // bound to its own agent
  });

  it('seeds a large table with its plain indexes rebuilt, leaving the same indexes', async () => {
    const indexes = () =>
      withClient(server.db.url, async (c) =>
        (await c.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'certificates' ORDER BY indexname")).rows.map((r) => r.indexdef as string),
      );
    const before = await indexes();
    await runSeed(server.db.url, 'certificates.sql', 100_000, seed);
    expect(await indexes()).toEqual(before);
    const n = await withClient(server.db.url, async (c) =>
      Number((await c.query("SELECT count(*) AS n FROM certificates WHERE id LIKE 'load-cert-%'")).rows[0].n),
    );
    expect(n).toBe(100_000);
  }, 60_000);

  it('binds psql variables by first use, leaving string literals and casts alone', () => {
    expect(bindPsqlVariables("SELECT :from::int, :'seed' || ':x', 'it''s :to', :to, :from", { from: 1, to: 2, seed: 's' })).toEqual({
      text: "SELECT $1::int, $2 || ':x', 'it''s :to', $3, $1",
      params: [1, 's', 2],
    });
    expect(() => bindPsqlVariables('SELECT :missing', {})).toThrow(/:missing/);
  });
});

describe('runLoad', () => {
  it('counts exactly what the server recorded (closed loop)', async () => {
    const before = await recorded();
    const result = await runLoad({ host: '127.0.0.1', port, connections: 8, executor: 'max-throughput', rate: 0, durationMs: 800, request: heartbeat });
    expect(result.completed).toBeGreaterThan(100);
    expect(result.statuses.get(200)).toBe(result.completed);
    expect(result.unexpected).toBe(0);
    expect((await recorded()) - before).toBe(result.completed);
  });

  it('spreads connections over several targets and reports each one (--replicas)', async () => {
    const http = await import('node:http');
    const hits = [0, 0];
    const replicas = await Promise.all(
      hits.map(
        (_, i) =>
          new Promise<import('node:http').Server>((resolve) => {
            const s = http.createServer((_req, res) => {
              hits[i]! += 1;
              res.writeHead(200, { 'Content-Length': '0' }).end();
            });
            s.listen(0, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    const targets = replicas.map((s) => ({ host: '127.0.0.1', port: (s.address() as import('node:net').AddressInfo).port }));
    const ping = prepareRequest('127.0.0.1', { method: 'GET', path: '/' });
    const result = await runLoad({ ...targets[0]!, targets, connections: 4, executor: 'max-throughput', rate: 0, durationMs: 300, request: () => ping });
    await Promise.all(replicas.map((s) => new Promise((r) => s.close(r))));
    const byTarget = [0, 0];
    for (const t of result.targetOf) byTarget[t]! += 1;
    expect(byTarget).toEqual(hits); // what each server answered, attributed to it
    expect(Math.min(...hits)).toBeGreaterThan(10);
    expect(summarize(result).per_replica?.map((r) => r.completed)).toEqual(hits);
  });

  it('speaks HTTPS, and reads no body after HEAD whatever Content-Length announces', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-tls-'));
    const { certPath, keyPath } = loopbackTls(dir);
    const cert = fs.readFileSync(certPath);
    let served = 0;
    const server = https.createServer({ cert, key: fs.readFileSync(keyPath) }, (req, res) => {
      served += 1;
      // What a GET would carry: a HEAD answer may announce it (RFC 9110 9.3.2), with no body.
      res.writeHead(200, { 'Content-Length': '1234' });
      res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1234));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const target = { host: '127.0.0.1', port: (server.address() as import('node:net').AddressInfo).port };
      for (const method of ['HEAD', 'GET']) {
        const request = prepareRequest('127.0.0.1', { method, path: '/' });
        const result = await runLoad({
          ...target,
          tls: { ca: cert },
          connections: 2,
          executor: 'max-throughput',
          rate: 0,
          durationMs: 300,
          request: () => request,
        });
        expect(result.failures, method).toEqual(new Map());
        expect(result.completed, method).toBeGreaterThan(10);
      }
      expect(served).toBeGreaterThan(20);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the schedule and times from it (open loop)', async () => {
    const before = await recorded();
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      connections: 4,
      executor: 'constant-arrival-rate',
      rate: 400,
      durationMs: 1000,
      request: heartbeat,
    });
    expect(result.scheduled).toBe(400);
    expect(result.completed).toBe(400);
    expect(result.dropped).toBe(0);
    expect((await recorded()) - before).toBe(400);
    const summary = summarize(result);
    expect(summary.achieved_rate).toBeGreaterThan(300);
    expect(summary.per_second.reduce((n, p) => n + p.completed, 0)).toBe(400);
  });

  it('frames JSON bodies and counts unexpected statuses like fetch sees them', async () => {
    const id = loadAgentId(3);
    const requests = [
      prepareRequest(host, { method: 'GET', path: `/api/v1/agents/${id}/work`, headers: { Authorization: `Bearer ${loadAgentKey(seed, id)}` }, expect: 200 }),
      prepareRequest(host, { method: 'GET', path: `/api/v1/agents/${id}/work`, headers: { Authorization: 'Bearer cfk_wrong' }, expect: 200 }),
      prepareRequest(host, {
        method: 'POST',
        path: `/api/v1/agents/${id}/heartbeat`,
        headers: { Authorization: `Bearer ${loadAgentKey(seed, id)}`, 'Content-Type': 'application/json' },
        body: '{"version":"9.9.9"}',
        expect: 200,
      }),
    ];
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      connections: 1,
      executor: 'constant-arrival-rate',
      rate: 30,
      durationMs: 1000,
      request: (k) => requests[k % 3]!,
    });
    const oracle = await Promise.all([
      fetch(`${server.url}/api/v1/agents/${id}/work`, { headers: { authorization: `Bearer ${loadAgentKey(seed, id)}` } }).then((r) => r.status),
      fetch(`${server.url}/api/v1/agents/${id}/work`, { headers: { authorization: 'Bearer cfk_wrong' } }).then((r) => r.status),
    ]);
    expect(oracle).toEqual([200, 401]);
    expect(Object.fromEntries(result.statuses)).toEqual({ 200: 20, 401: 10 });
    expect(result.unexpected).toBe(10);
    expect(result.failures.size).toBe(0);
  });
});

describe('the event-loop lag figures', () => {
  it('report the delay beyond the sampling period (an idle loop reads the period itself), and a block as such', async () => {
    expect(delayBeyond(5.47e6, 5)).toBe(0.47);
    expect(delayBeyond(4.2e6, 5)).toBe(0);
    expect(delayBeyond(Number.NaN, 10)).toBeNaN();
    const blocked = lagMonitor();
    await new Promise((r) => setTimeout(r, 30));
    const until = performance.now() + 40;
    while (performance.now() < until); // the loop held for 40 ms
    await new Promise((r) => setTimeout(r, 30));
    expect(blocked().max).toBeGreaterThanOrEqual(30);
  });
});

describe('thresholds', () => {
  const summary = (p99: number, failedRate: number) =>
    ({ failed_rate: failedRate, latency_ms: { p50: 1, p90: 2, p95: 3, p99, max: 9, mean: 1.5 } }) as Parameters<typeof evaluateThresholds>[1];

  it('evaluates k6 expressions on latency and failure rate', () => {
    const t = { http_req_duration: ['p(99)<25', 'avg<2'], http_req_failed: ['rate==0'] };
    expect(evaluateThresholds(t, summary(20, 0)).map((r) => r.ok)).toEqual([true, true, true]);
    expect(evaluateThresholds(t, summary(30, 0.01)).map((r) => r.ok)).toEqual([false, true, false]);
    expect(() => evaluateThresholds({ http_req_duration: ['p(42)<1'] }, summary(1, 0))).toThrow(/p\(42\)/);
    expect(() => evaluateThresholds({ http_req_duration: ['fast please'] }, summary(1, 0))).toThrow(/cannot evaluate/);
  });

  it('takes nearest-rank quantiles', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect([quantile(sorted, 0.5), quantile(sorted, 0.99), quantile(sorted, 1)]).toEqual([50, 99, 100]);
    expect(quantile(new Float64Array(0), 0.5)).toBe(0);
  });
});

describe('the loadtest command', () => {
  it('refuses a target outside loopback before sending anything', () => {
    let out = '';
    try {
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          path.resolve(import.meta.dirname, 'run.ts'),
          'agent_storm',
          '--url',
          'http://192.0.2.10:8080',
          '--database-url',
          'postgres://x@192.0.2.10/x',
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (err) {
      const e = err as { status: number; stderr: string };
      expect(e.status).toBe(2);
      out = e.stderr;
    }
    expect(out).toMatch(/only loopback targets/);
  });
});
