/**
 * The connector tier's handshake scenarios (nginx_handshake, apache_handshake, haproxy_handshake):
 * new TLS connections at a constant arrival rate to a real daemon on loopback that serves a
 * certfleet-issued P-256 chain, each an HTTPS GET on a fresh connection (no reuse, no session
 * resumption), as a fleet of clients arriving at a renewed site would.
 *
 * Step 1: `certfleet serve` on an embedded PostgreSQL issues a leaf for a key made here (REST CSR
 *         route), then stops: the measurement is the daemon's, not certfleet's.
 * Step 2: the daemon starts (Debian's package, test/support launchers) and the certificate goes
 *         onto it through the agent's own connector (plan, files, validate, reload, TLS check).
 * Step 3: open loop: connection k starts at t0 + k/rate, its latency counted from that time (a
 *         full house of `connections` in flight delays it, never hides it), handshake + request +
 *         response. Thresholds as the scenario says; failures fail the run.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { deploy } from '../../src/agent/connectors/deploy.ts';
import { deploymentMaterial } from '../../src/agent/connectors/material.ts';
import { planDeployment, type TargetConfig } from '../../src/agent/connectors/plans.ts';
import { toPem } from '../../src/pki/certificate.ts';
import { buildCsr } from '../../src/pki/csr-builder.ts';
import { startApache } from '../../test/support/apache.ts';
import { startHaproxy } from '../../test/support/haproxy.ts';
import { startNginx } from '../../test/support/nginx.ts';
import { latencySummary, type LatencySummary } from './stats.ts';
import { startTarget } from './target.ts';

export interface HandshakeScenario {
  name: string;
  kind: 'handshake';
  daemon: 'nginx' | 'apache' | 'haproxy';
  description: string;
  rate: number;
  duration: string;
  connections: number;
  /** p(50|95|99) < ms, like k6's http_req_duration thresholds. */
  thresholds: { handshake_duration: string[]; handshake_failed: string[] };
}

export interface HandshakeOptions {
  rate: number;
  durationMs: number;
  connections: number;
  outDir: string;
  smoke: boolean;
}

const commonName = 'handshake.fleet.test';

/** Step 1: a certfleet-issued P-256 leaf and chain for a key generated here. */
async function issueChain(work: string): Promise<{ chainPem: string; keyPem: string }> {
  const server = await startTarget({ dataDir: path.join(work, 'server') });
  try {
    const api = async <T>(p: string, body: unknown): Promise<T> => {
      const res = await fetch(`${server.url}${p}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`POST ${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const team = await api<{ id: string }>('/api/v1/teams', { name: 'handshake' });
    const owner = await api<{ id: string }>('/api/v1/owners', { name: 'handshake', email: 'handshake@fleet.test', team_id: team.id });
    const issuer = await api<{ id: string }>('/api/v1/issuers', { name: 'handshake', type: 'local' });
    const policy = await api<{ id: string }>('/api/v1/renewal-policies', { name: 'handshake' });
    const cert = await api<{ id: string }>('/api/v1/certificates', {
      name: 'handshake',
      common_name: commonName,
      owner_id: owner.id,
      team_id: team.id,
      issuer_id: issuer.id,
      renewal_policy_id: policy.id,
    });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = await api<{ pem_chain: string }>(`/api/v1/certificates/${cert.id}/csr`, { csr_pem: buildCsr(privateKey, publicKey, commonName) });
    return { chainPem: issued.pem_chain, keyPem: toPem(privateKey.export({ format: 'der', type: 'pkcs8' }), 'PRIVATE KEY') };
  } finally {
    await server.stop();
  }
}

/** Step 2: the daemon, serving the chain, put there by its connector. */
async function startDaemon(kind: HandshakeScenario['daemon'], dir: string, issued: { chainPem: string; keyPem: string }) {
  const daemon = kind === 'nginx' ? await startNginx(dir) : kind === 'apache' ? await startApache(dir) : await startHaproxy(dir);
  const config: TargetConfig =
    'pemPath' in daemon
      ? { pem_path: daemon.pemPath, admin_socket: daemon.adminSocket }
      : { cert_path: daemon.certPath, key_path: daemon.keyPath, config_file: daemon.configFile };
  const material = deploymentMaterial(issued.chainPem, issued.keyPem, 'handshake');
  const type = { nginx: 'NGINX', apache: 'Apache', haproxy: 'HAProxy' }[kind];
  const outcome = await deploy(planDeployment(type, { ...config, verify: { address: `127.0.0.1:${daemon.port}`, server_name: commonName } }, material));
  if (outcome.status === 'failed') throw new Error(`deploying the certfleet chain to ${kind} failed: ${outcome.reason}`);
  return daemon;
}

/** One connection: TLS handshake, GET /, the response's first bytes; resolves with its status line's code. */
function oneConnection(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: commonName, rejectUnauthorized: false, session: undefined, timeout: 10_000 }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${commonName}\r\nConnection: close\r\n\r\n`);
    });
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.once('timeout', () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before a response')));
  });
}

/** Step 3 */
async function openLoop(port: number, options: HandshakeOptions) {
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const t0 = performance.now();
  const total = Math.floor((options.rate * options.durationMs) / 1000);
  let inFlight = 0;
  let next = 0;
  await new Promise<void>((done) => {
    let finished = 0;
    const end = () => (clearInterval(timer), clearTimeout(grace), done());
    const settle = () => (++finished >= total ? end() : pump());
    const pump = () => {
      const now = performance.now();
      while (next < total && inFlight < options.connections && t0 + (next * 1000) / options.rate <= now) {
        const scheduledAt = t0 + (next++ * 1000) / options.rate;
        inFlight++;
        oneConnection(port).then(
          (status) => {
            inFlight--;
            if (status === 200) latencies.push(performance.now() - scheduledAt);
            else failures.set(`status_${status}`, (failures.get(`status_${status}`) ?? 0) + 1);
            settle();
          },
          (err: Error) => {
            inFlight--;
            failures.set(err.message, (failures.get(err.message) ?? 0) + 1);
            settle();
          },
        );
      }
    };
    const timer = setInterval(pump, 1);
    const grace = setTimeout(end, options.durationMs + 15_000); // the last ones get 15 s
    if (total === 0) end();
    else pump();
  });
  const elapsedMs = performance.now() - t0;
  return { latencies: Float64Array.from(latencies), failures, total, elapsedMs };
}

/** "p(99)<20" -> the check; "rate==0" -> none may fail. */
function evaluate(thresholds: HandshakeScenario['thresholds'], latency: LatencySummary, failedRate: number): string[] {
  const broken: string[] = [];
  for (const t of thresholds.handshake_duration) {
    const m = /^p\((\d+)\)<(\d+)$/.exec(t);
    if (!m) throw new Error(`unsupported threshold ${t}`);
    const value = latency[`p${m[1]}` as keyof LatencySummary];
    if (value === undefined) throw new Error(`unsupported percentile in ${t}`);
    if (!(value < Number(m[2]))) broken.push(`handshake_duration ${t}: ${value.toFixed(1)} ms`);
  }
  for (const t of thresholds.handshake_failed) {
    const m = /^rate[<=]=?([\d.]+)$/.exec(t);
    if (!m) throw new Error(`unsupported threshold ${t}`);
    if (failedRate > Number(m[1])) broken.push(`handshake_failed ${t}: ${failedRate}`);
  }
  return broken;
}

export async function runHandshake(scenario: HandshakeScenario, options: HandshakeOptions): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `certfleet-${scenario.name}-`));
  fs.chmodSync(work, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
  process.stderr.write(`${scenario.name}: issuing a P-256 chain with certfleet, then ${scenario.daemon} on loopback (${work})\n`);
  const issued = await issueChain(work);
  const daemon = await startDaemon(scenario.daemon, path.join(work, scenario.daemon), issued);
  try {
    await openLoop(daemon.port, { ...options, durationMs: Math.min(options.durationMs, 2000), rate: Math.min(options.rate, 100) }); // warm-up
    process.stderr.write(`${scenario.name}: ${options.rate} new connections/s for ${options.durationMs / 1000} s, at most ${options.connections} at once\n`);
    const run = await openLoop(daemon.port, options);
    const failed = [...run.failures.values()].reduce((a, b) => a + b, 0);
    const latency = latencySummary(run.latencies);
    const failedRate = run.total ? failed / run.total : 0;
    // --smoke (CI): the daemon shares the machine with the suite: only failures count.
    const broken = evaluate(
      options.smoke ? { handshake_duration: [], handshake_failed: scenario.thresholds.handshake_failed } : scenario.thresholds,
      latency,
      failedRate,
    );
    const summary = {
      daemon: scenario.daemon,
      rate: options.rate,
      connections: run.total,
      achieved_per_second: Math.round((run.latencies.length / run.elapsedMs) * 1000),
      failed,
      failures: Object.fromEntries(run.failures),
      latency_ms: latency,
    };
    const ok = broken.length === 0;
    fs.mkdirSync(options.outDir, { recursive: true });
    const file = path.join(options.outDir, `${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(
      file,
      `${JSON.stringify({ scenario: scenario.name, ok, broken, summary, environment: { cores: os.cpus().length, node: process.version } }, null, 2)}\n`,
    );
    const f = (n: number) => n.toFixed(1);
    process.stdout.write(
      `${scenario.name}: ${run.latencies.length}/${run.total} connections at ${summary.achieved_per_second}/s, ` +
        `p50 ${f(latency.p50)} ms, p95 ${f(latency.p95)} ms, p99 ${f(latency.p99)} ms, max ${f(latency.max)} ms; ${failed} failed\n` +
        `${broken.map((b) => `  threshold broken: ${b}\n`).join('')}${ok ? 'PASSED' : 'FAILED'} (report: ${file})\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await daemon.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
