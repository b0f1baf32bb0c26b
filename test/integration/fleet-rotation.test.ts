/**
 * The fleet end to end with real processes: `certfleet serve` and three `certfleet agent`
 * processes. One certificate is mapped to a target on each agent; agent 1's target is a real
 * nginx (Debian's) serving TLS on loopback. A renewal makes each agent generate its own key,
 * submit a CSR and deploy its own leaf; the deployed chains pass `openssl verify`, and nginx,
 * reloaded by the agent, presents the new certificate in a TLS handshake that verifies against
 * the certfleet CA. A second renewal rotates every host again.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentReport } from '../../src/agent/connectors/deploy.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { certificateBody, seedInventory, type Inventory } from '../support/fixtures.ts';
import { startNginx, type TestNginx } from '../support/nginx.ts';
import { runCertfleet, serve, type CertfleetProcess } from '../support/process.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';
import { until } from '../support/until.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';
/** Long on purpose: renewals reach the agents through their waiting polls, not the next poll. */
const pollSeconds = 10;
let db: TestDatabase;
let server: CertfleetProcess & { url: string };
let inv: Inventory;
let nginx: TestNginx;
let dir: string;
const agents: Array<{ name: string; proc: CertfleetProcess; id: string; apiKey: string; files: string }> = [];

const admin = (p: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${server.url}${p}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${adminKey}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-fleet-'));
  db = await createTestDatabase();
  inv = await seedInventory(db.url);
  server = await serve({
    DATABASE_URL: db.url,
    CERTFLEET_HOST: '127.0.0.1',
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_DATA_DIR: path.join(dir, 'server'),
    CERTFLEET_WORKER_THREADS: '1',
  });
  nginx = await startNginx(path.join(dir, 'nginx'));
  for (const name of ['host-1', 'host-2', 'host-3']) {
    const home = path.join(dir, name);
    const stateFile = path.join(home, 'state.json');
    const proc = runCertfleet(
      [
        'agent',
        '--server',
        server.url,
        '--name',
        name,
        '--state-file',
        stateFile,
        '--heartbeat-interval',
        String(pollSeconds),
        '--poll-interval',
        String(pollSeconds),
      ],
      {
        CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
        CERTFLEET_DATA_DIR: home,
      },
    );
    const state = await until(`${name} to register`, async () =>
      fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as { agent_id: string; api_key: string }) : undefined,
    );
    agents.push({ name, proc, id: state.agent_id, apiKey: state.api_key, files: path.join(home, 'tls') });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map(async (a) => (a.proc.child.kill('SIGTERM'), a.proc.exited)));
  await nginx?.stop();
  server?.child.kill('SIGTERM');
  await server?.exited;
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function renewAndWait(certificateId: string): Promise<void> {
  await until(
    "every agent's poll to wait on the server",
    async () => (/^certfleet_agent_work_polls_waiting 3$/m.test(await (await fetch(`${server.url}/metrics`)).text()) ? true : undefined),
    { timeoutMs: (pollSeconds + 10) * 1000 },
  );
  const renewedAt = performance.now();
  const renew = await admin(`/api/v1/certificates/${certificateId}/renew`, { method: 'POST' });
  expect(renew.status).toBe(202);
  const { job_id } = (await renew.json()) as { job_id: string };
  await until('the renewal and three deployments to complete', async () => {
    const jobs = (
      (await (await admin(`/api/v1/jobs?certificate_id=${certificateId}&per_page=500`)).json()) as {
        data: Array<{ id: string; type: string; status: string; created_at: string; last_error: string | null }>;
      }
    ).data;
    const failed = jobs.find((j) => j.status === 'Failed' || (j.type === 'Deployment' && j.last_error));
    if (failed) throw new Error(`job ${failed.id} failed: ${failed.last_error}`);
    const renewal = jobs.find((j) => j.id === job_id);
    const after = jobs.filter((j) => j.type === 'Deployment' && j.created_at >= renewal!.created_at);
    return renewal?.status === 'Completed' && after.length === 3 && after.every((j) => j.status === 'Completed') ? true : undefined;
  });
  // Well within one poll interval: the waiting polls were answered when the renewal committed.
  expect(performance.now() - renewedAt).toBeLessThan((pollSeconds / 2) * 1000);
}

describe('fleet rotation with three agent processes and nginx', () => {
  let certificateId: string;
  let caPem: string;

  it('issues a leaf per agent, deploys it, and nginx serves it after its reload', async () => {
    const [one, two, three] = agents as [(typeof agents)[0], (typeof agents)[0], (typeof agents)[0]];
    const target = async (agentId: string, name: string, config: Record<string, unknown>, type = 'File') => {
      const res = await admin('/api/v1/targets', { method: 'POST', body: { name, type, agent_id: agentId, config } });
      expect(res.status, await res.clone().text()).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const fileTarget = (a: (typeof agents)[0]) => ({
      cert_path: path.join(a.files, 'cert.pem'),
      chain_path: path.join(a.files, 'chain.pem'),
      key_path: path.join(a.files, 'key.pem'),
    });
    for (const a of [two, three]) fs.mkdirSync(a.files, { recursive: true });
    const targets = [
      // The nginx connector's own defaults (nginx -c conf -t / -s reload), and its TLS check.
      await target(
        one.id,
        `nginx-${inv.suffix}`,
        { cert_path: nginx.certPath, key_path: nginx.keyPath, config_file: nginx.configFile, verify: { address: `127.0.0.1:${nginx.port}` } },
        'NGINX',
      ),
      await target(two.id, `files-2-${inv.suffix}`, fileTarget(two)),
      await target(three.id, `files-3-${inv.suffix}`, fileTarget(three)),
    ];
    const cert = (await (
      await admin('/api/v1/certificates', { method: 'POST', body: certificateBody(inv, `fleet-${inv.suffix}`, { target_ids: targets }) })
    ).json()) as { id: string; common_name: string };
    certificateId = cert.id;
    const placeholder = await nginx.presented(cert.common_name);

    await renewAndWait(cert.id);

    // Files: each host's chain verifies and its leaf matches the key that never left the host.
    const leaves = new Set<string>();
    for (const a of [two, three]) {
      const f = fileTarget(a);
      expect(execFileSync('openssl', ['verify', '-CAfile', f.chain_path, f.cert_path], { encoding: 'utf8' })).toMatch(/: OK/);
      const certKey = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', f.cert_path], { encoding: 'utf8' });
      expect(execFileSync('openssl', ['pkey', '-pubout', '-in', f.key_path], { encoding: 'utf8' })).toBe(certKey);
      leaves.add(fs.readFileSync(f.cert_path, 'utf8'));
      caPem = fs.readFileSync(f.chain_path, 'utf8');
    }
    // nginx: the reloaded server presents agent 1's new leaf, which verifies against the CA.
    const deployed = new X509Certificate(fs.readFileSync(nginx.certPath));
    leaves.add(deployed.toString());
    expect(leaves.size).toBe(3); // three hosts, three keys, three leaves
    const presented = await until(
      'nginx to present the new certificate',
      async () => {
        const raw = await nginx.presented(cert.common_name);
        return raw.equals(placeholder) ? undefined : raw;
      },
      { timeoutMs: 10_000 },
    );
    expect(presented.equals(deployed.raw)).toBe(true);
    const verified = await new Promise<boolean>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: nginx.port, servername: cert.common_name, ca: caPem }, () => {
        resolve(socket.authorized);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    expect(verified).toBe(true);

    // The deployment record says what each connector did; nginx's includes the leaf it served.
    const deployments = (await (await admin(`/api/v1/certificates/${cert.id}/deployments`)).json()) as {
      data: Array<{ id: string; last_deployment: { status: string; report: DeploymentReport } }>;
    };
    const byTarget = new Map(deployments.data.map((d) => [d.id, d.last_deployment]));
    const nginxReport = byTarget.get(targets[0]!)!.report;
    expect(nginxReport).toMatchObject({
      connector: 'nginx',
      rolled_back: false,
      served: { matches: true, serial: deployed.serialNumber.toLowerCase().replace(/^0+/, '') },
    });
    expect(nginxReport.commands.map((c) => [c.argv.slice(-2), c.exit_code])).toEqual([
      [['-t', '-q'], 0],
      [['-s', 'reload'], 0],
    ]);
    expect(byTarget.get(targets[1]!)).toMatchObject({
      status: 'Completed',
      report: { connector: 'file', files: [{ changed: true }, { changed: true }, { changed: true }] },
    });
  }, 90_000);

  it('rotates every host again on the next renewal', async () => {
    const before = fs.readFileSync(nginx.certPath);
    const fileBefore = agents.slice(1).map((a) => fs.readFileSync(path.join(a.files, 'cert.pem'), 'utf8'));
    await renewAndWait(certificateId);
    expect(fs.readFileSync(nginx.certPath).equals(before)).toBe(false);
    expect(agents.slice(1).map((a) => fs.readFileSync(path.join(a.files, 'cert.pem'), 'utf8'))).not.toEqual(fileBefore);
    const rotated = new X509Certificate(fs.readFileSync(nginx.certPath));
    await until('nginx to present the rotated certificate', async () => ((await nginx.presented('x')).equals(rotated.raw) ? true : undefined), {
      timeoutMs: 10_000,
    });
  }, 90_000);

  it("refuses an agent's key on another agent's routes", async () => {
    const [one, two] = agents as [(typeof agents)[0], (typeof agents)[0]];
    for (const route of ['/work', '/heartbeat']) {
      const res = await fetch(`${server.url}/api/v1/agents/${two.id}${route}`, {
        method: route === '/work' ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${one.apiKey}` },
      });
      expect(res.status, route).toBe(403);
    }
  });

  it('stops every agent cleanly on SIGTERM', async () => {
    for (const a of agents) a.proc.child.kill('SIGTERM');
    expect(await Promise.all(agents.map((a) => a.proc.exited))).toEqual([0, 0, 0]);
  });
});
