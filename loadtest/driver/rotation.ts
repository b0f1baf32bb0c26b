/**
 * rotation_to_served: how long after a bulk renewal does every target serve its new leaf?
 *
 *   npm run loadtest -- rotation_to_served [--targets 200] [--agents 4] [--poll-interval 5] [--smoke] [--out DIR]
 *
 * Step 1: `certfleet serve` on an embedded PostgreSQL; M agent processes (the bundle that runs on
 *         hosts, dist/certfleet-agent.cjs) with the given poll interval, each with its own real
 *         nginx holding N/M TLS server blocks on distinct loopback ports, as M hosts would.
 * Step 2: N certificates, each mapped to one NGINX target (the nginx connector, its TLS check on
 *         that port); a first bulk renewal puts certfleet-issued leaves everywhere (not timed).
 * Step 3: the timed wave: a bulk renewal, then the driver's own TLS handshakes to every port until
 *         each serves a leaf other than the one before; per target, the time from the renewal.
 * Passes when the last target serves its new leaf within one poll interval plus `slackSeconds`
 * and no deployment failed or was retried. Loopback only: every daemon is a child of the driver.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pg from 'pg';
import { normalSerial } from '../../src/agent/connectors/served-leaf.ts';
import { stopChild } from '../../test/support/tls-daemon.ts';
import { startTarget } from './target.ts';
import { quantile } from './stats.ts';

export interface RotationScenario {
  name: string;
  kind: 'rotation';
  description: string;
  targets: number;
  agents: number;
  pollSeconds: number;
  /** The wave passes when its last target is served within pollSeconds + slackSeconds. */
  slackSeconds: number;
}

export interface RotationOptions {
  targets: number;
  agents: number;
  pollSeconds: number;
  outDir: string;
  smoke: boolean;
}

const root = path.resolve(import.meta.dirname, '../..');
const agentBundle = path.join(root, 'dist/certfleet-agent.cjs');
const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
const bootstrap = `rotation-bootstrap-${process.pid}-0123456789abcdef`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

interface Host {
  dir: string;
  conf: string;
  ports: number[];
  nginx: ChildProcess;
  agent?: ChildProcess;
  agentId?: string;
}

/** One host's nginx: a server block per port, each with its own (placeholder) certificate and key. */
async function startNginx(dir: string, ports: number[]): Promise<Host> {
  if (!nginxBin) throw new Error('nginx is not installed: run scripts/install-test-deps.sh (Debian package nginx-light)');
  fs.mkdirSync(path.join(dir, 'tls'), { recursive: true });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=placeholder',
      '-keyout',
      path.join(dir, 'tls/placeholder.key'),
      '-out',
      path.join(dir, 'tls/placeholder.pem'),
    ],
    { stdio: 'ignore' },
  );
  for (const port of ports) {
    fs.copyFileSync(path.join(dir, 'tls/placeholder.pem'), path.join(dir, `tls/${port}.pem`));
    fs.copyFileSync(path.join(dir, 'tls/placeholder.key'), path.join(dir, `tls/${port}.key`));
  }
  const conf = path.join(dir, 'nginx.conf');
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
  const blocks = ports.map(
    (port) => `  server { listen 127.0.0.1:${port} ssl; ssl_certificate ${dir}/tls/${port}.pem; ssl_certificate_key ${dir}/tls/${port}.key; return 200; }`,
  );
  fs.writeFileSync(
    conf,
    `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nworker_processes 1;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join(' ')}\n${blocks.join('\n')}\n}\n`,
  );
  const nginx = spawn(nginxBin, ['-c', conf, '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!(await servedSerial(ports[ports.length - 1]!)) && Date.now() < deadline) await sleep(50);
  return { dir, conf, ports, nginx };
}

/** The serial of the leaf 127.0.0.1:port serves (lowercase hex), or undefined when no handshake. */
function servedSerial(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, timeout: 2_000 }, () => {
      const peer = socket.getPeerCertificate().serialNumber;
      const serial = peer ? normalSerial(peer) : undefined;
      socket.destroy();
      resolve(serial);
    });
    socket.once('timeout', () => (socket.destroy(), resolve(undefined)));
    socket.once('error', () => resolve(undefined));
  });
}

/** Handshakes with every pending port (a few at a time) until each serves a serial it did not before. */
async function waitUntilServed(ports: number[], before: Map<number, string | undefined>, startedAt: number, deadlineMs: number): Promise<Map<number, number>> {
  const servedAfter = new Map<number, number>();
  while (servedAfter.size < ports.length && performance.now() - startedAt < deadlineMs) {
    const pending = ports.filter((p) => !servedAfter.has(p));
    for (let i = 0; i < pending.length; i += 16) {
      await Promise.all(
        pending.slice(i, i + 16).map(async (port) => {
          const serial = await servedSerial(port);
          if (serial && serial !== before.get(port)) servedAfter.set(port, performance.now() - startedAt);
        }),
      );
    }
    await sleep(100);
  }
  return servedAfter;
}

export async function runRotation(scenario: RotationScenario, options: RotationOptions): Promise<number> {
  const { targets, agents, pollSeconds } = options;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'certfleet-rotation-'));
  fs.chmodSync(work, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
  const hosts: Host[] = [];
  process.stderr.write(`rotation_to_served: ${targets} targets on ${agents} hosts (agent + nginx), poll interval ${pollSeconds} s, in ${work}\n`);
  // The agent as hosts run it, built from this tree (esbuild: well under a second).
  execFileSync(process.execPath, [path.join(root, 'scripts/build-agent.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Step 1
  const server = await startTarget({ dataDir: path.join(work, 'server'), env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });
  const db = new pg.Client({ connectionString: server.databaseUrl });
  try {
    await db.connect();
    const api = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${server.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${server.adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    const ports = await freePorts(targets);
    for (let h = 0; h < agents; h++) {
      const mine = ports.filter((_, i) => i % agents === h);
      const host = await startNginx(path.join(work, `host-${h}`), mine);
      host.agent = spawn(
        process.execPath,
        [
          agentBundle,
          '--server',
          server.url,
          '--name',
          `rotation-host-${h}`,
          '--state-file',
          path.join(host.dir, 'agent/state.json'),
          '--poll-interval',
          String(pollSeconds),
          '--heartbeat-interval',
          '60',
        ],
        {
          env: { PATH: process.env.PATH ?? '', CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap, CERTFLEET_LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      hosts.push(host);
    }
    for (const [h, host] of hosts.entries()) {
      const deadline = Date.now() + 30_000;
      while (!host.agentId) {
        if (Date.now() > deadline) throw new Error(`agent rotation-host-${h} did not register`);
        const state = path.join(host.dir, 'agent/state.json');
        if (fs.existsSync(state)) host.agentId = (JSON.parse(fs.readFileSync(state, 'utf8')) as { agent_id: string }).agent_id;
        else await sleep(100);
      }
    }
    // Step 2
    const team = await api<{ id: string }>('POST', '/api/v1/teams', { name: 'rotation-team' });
    const owner = await api<{ id: string }>('POST', '/api/v1/owners', { name: 'rotation-owner', email: 'rotation@fleet.test', team_id: team.id });
    const issuer = await api<{ id: string }>('POST', '/api/v1/issuers', { name: 'rotation-issuer', type: 'local' });
    const policy = await api<{ id: string }>('POST', '/api/v1/renewal-policies', { name: 'rotation-policy' });
    for (const host of hosts) {
      for (const port of host.ports) {
        const commonName = `rotation-${port}.fleet.test`;
        const target = await api<{ id: string }>('POST', '/api/v1/targets', {
          name: `nginx-${port}`,
          type: 'NGINX',
          agent_id: host.agentId,
          config: {
            cert_path: `${host.dir}/tls/${port}.pem`,
            key_path: `${host.dir}/tls/${port}.key`,
            config_file: host.conf,
            verify: { address: `127.0.0.1:${port}` },
          },
        });
        await api('POST', '/api/v1/certificates', {
          name: `rotation-${port}`,
          common_name: commonName,
          owner_id: owner.id,
          team_id: team.id,
          issuer_id: issuer.id,
          renewal_policy_id: policy.id,
          target_ids: [target.id],
        });
      }
    }
    const wave = async (label: string) => {
      const before = new Map(await Promise.all(ports.map(async (p) => [p, await servedSerial(p)] as const)));
      const since = (await db.query<{ now: Date }>('SELECT now()')).rows[0]!.now; // this wave's deployments alone
      const startedAt = performance.now();
      const renewed = await api<{ matched?: number; created?: number }>('POST', '/api/v1/certificates/bulk-renew', { owner_id: owner.id });
      const served = await waitUntilServed(ports, before, startedAt, (pollSeconds * 3 + 60) * 1000);
      // The agents report after their group's TLS checks: wait for every deployment's outcome.
      const outcomes = async () =>
        (
          await db.query<{ failed: number; retried: number; completed: number }>(
            `SELECT count(*) FILTER (WHERE status = 'Failed' OR last_error IS NOT NULL)::int AS failed,
                    count(*) FILTER (WHERE attempts > 1)::int AS retried, count(*) FILTER (WHERE status = 'Completed')::int AS completed
               FROM jobs WHERE type = 'Deployment' AND created_at >= $1`,
            [since],
          )
        ).rows[0]!;
      let deployments = await outcomes();
      for (const until = Date.now() + 30_000; deployments.completed + deployments.failed < targets && Date.now() < until; deployments = await outcomes())
        await sleep(200);
      // Where the time went, from the wave's start: each leaf signed, each deployment claimed and reported.
      const { rows: phases } = await db.query<Record<string, number>>(
        `WITH t AS (
           SELECT extract(epoch FROM v.created_at - $1) * 1000 AS signed, NULL::float8 AS claimed, NULL::float8 AS reported,
                  NULL::float8 AS deploy, NULL::float8 AS validate, NULL::float8 AS reload
             FROM certificate_versions v WHERE v.created_at >= $1
           UNION ALL
           SELECT NULL, extract(epoch FROM j.started_at - $1) * 1000, extract(epoch FROM j.completed_at - $1) * 1000,
                  (r->>'duration_ms')::float8, (r->'commands'->0->>'duration_ms')::float8, (r->'commands'->1->>'duration_ms')::float8
             FROM jobs j, LATERAL (SELECT j.deployment_report AS r) x WHERE j.type = 'Deployment' AND j.created_at >= $1)
         SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY signed))::int AS signed_p50_ms, round(max(signed))::int AS signed_max_ms,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY claimed))::int AS claimed_p50_ms, round(max(claimed))::int AS claimed_max_ms,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY reported))::int AS reported_p50_ms, round(max(reported))::int AS reported_max_ms,
                -- on the agent: the whole deployment (files, validate, reload, TLS check), and its two commands
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY deploy))::int AS agent_deploy_p50_ms,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY validate))::int AS validate_p50_ms,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY reload))::int AS reload_p50_ms
           FROM t`,
        [since],
      );
      process.stderr.write(
        `${label}: ${served.size}/${targets} served after ${Math.round(Math.max(0, ...served.values()))} ms (bulk renew: ${JSON.stringify(renewed)})\n`,
      );
      return { served, deployments, phases: phases[0]! };
    };
    await wave('first issuance (not timed)');
    // Step 3
    const { served, deployments, phases } = await wave('timed wave');
    const times = Float64Array.from(served.values()).sort();
    const goalMs = (pollSeconds + scenario.slackSeconds) * 1000;
    const summary = {
      targets,
      agents,
      poll_interval_s: pollSeconds,
      served: served.size,
      p50_ms: Math.round(quantile(times, 0.5)),
      p99_ms: Math.round(quantile(times, 0.99)),
      max_ms: Math.round(times.length ? times[times.length - 1]! : NaN),
      goal_ms: goalMs,
      deployments_completed: deployments.completed,
      deployments_failed: deployments.failed,
      deployments_retried: deployments.retried,
      ...phases,
    };
    const failures = [
      ...(served.size < targets ? [`${targets - served.size} targets never served a new leaf`] : []),
      ...(deployments.failed > 0 ? [`${deployments.failed} deployments failed`] : []),
      ...(deployments.retried > 0 ? [`${deployments.retried} deployments were retried`] : []),
      ...(!options.smoke && summary.max_ms > goalMs
        ? [`the last target was served after ${summary.max_ms} ms > ${goalMs} ms (poll interval + ${scenario.slackSeconds} s)`]
        : []),
    ];
    const ok = failures.length === 0;
    const report = {
      scenario: scenario.name,
      ok,
      failures,
      summary,
      environment: { cores: os.cpus().length, node: process.version, started: new Date().toISOString() },
    };
    fs.mkdirSync(options.outDir, { recursive: true });
    const file = path.join(options.outDir, `${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `${scenario.name}: ${targets} targets, ${agents} agents, poll ${pollSeconds} s: served p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms ` +
        `(goal ${goalMs} ms); deployments ${deployments.completed} completed, ${deployments.failed} failed, ${deployments.retried} retried\n` +
        `  from the renewal: signed p50 ${phases.signed_p50_ms} / max ${phases.signed_max_ms} ms, deployment claimed p50 ${phases.claimed_p50_ms} / max ${phases.claimed_max_ms} ms, ` +
        `reported p50 ${phases.reported_p50_ms} / max ${phases.reported_max_ms} ms; on the agent: deployment p50 ${phases.agent_deploy_p50_ms} ms ` +
        `(validate ${phases.validate_p50_ms} ms, reload ${phases.reload_p50_ms} ms)\n` +
        `${failures.map((f) => `  ${f}\n`).join('')}${ok ? 'PASSED' : 'FAILED'} (report: ${file})\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await db.end().catch(() => undefined);
    // Agents first (they would log the server's absence), then the daemons, then the server.
    await Promise.all(hosts.map((host) => host.agent && stopChild(host.agent, 'SIGTERM')));
    await Promise.all(hosts.map((host) => stopChild(host.nginx, 'SIGQUIT')));
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
