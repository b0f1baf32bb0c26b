/**
 * The real `certfleet agent` process end to end: it registers with the bootstrap token (state
 * file 0600), generates its key locally, submits a CSR for its certificate, deploys cert, chain
 * and key to its file targets (the reload command runs), reports the jobs Completed; the
 * deployed chain passes `openssl verify` and matches the key. A retired agent exits cleanly.
 * Both forms run it: `certfleet agent` from the sources, and the bundle a fleet host runs
 * (`npm run build:agent`, dist/certfleet-agent.cjs, plain node).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateBody } from '../support/fixtures.ts';
import { runCertfleet } from '../support/process.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useTestWorld } from '../support/world.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';
let dir: string;

const root = path.resolve(import.meta.dirname, '../..');
const bundle = path.join(root, 'dist/certfleet-agent.cjs');

const world = useTestWorld({ env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [path.join(root, 'scripts/build-agent.mjs')]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-agent-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const json = (method: string, body: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const forms = [
  { form: 'certfleet agent (sources)', slug: 'src', run: (args: string[], env: Record<string, string>) => runCertfleet(['agent', ...args], env) },
  { form: 'the agent bundle', slug: 'bundle', run: (args: string[], env: Record<string, string>) => runCertfleet(args, env, bundle) },
];

describe.each(forms)('$form', ({ run, slug }) => {
  const host = `host-${slug}`;
  async function agentOnce(name: string, extra: string[] = []) {
    const proc = run(['--server', world.server.url, '--name', name, '--state-file', path.join(dir, name, 'state.json'), '--once', ...extra], {
      CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
      CERTFLEET_DATA_DIR: path.join(dir, name),
    });
    const code = await proc.exited;
    return { code, stdout: proc.stdout.join('\n'), stderr: proc.stderr() };
  }

  it('registers, issues with a local key, deploys to its targets and reports', async () => {
    // First run: registers (nothing mapped to it yet).
    const first = await agentOnce(host);
    expect(first.code, first.stderr).toBe(0);
    const state = JSON.parse(fs.readFileSync(path.join(dir, host, 'state.json'), 'utf8')) as { agent_id: string };
    expect(fs.statSync(path.join(dir, host, 'state.json')).mode & 0o777).toBe(0o600);

    const files = path.join(dir, host, 'tls');
    fs.mkdirSync(files, { recursive: true });
    const target = (await (
      await world.server.request(
        '/api/v1/targets',
        json('POST', {
          name: `site-${slug}`,
          type: 'File',
          agent_id: state.agent_id,
          config: {
            cert_path: path.join(files, 'cert.pem'),
            chain_path: path.join(files, 'chain.pem'),
            key_path: path.join(files, 'key.pem'),
            validate_command: ['test', '-s', path.join(files, 'cert.pem')],
            reload_command: ['touch', path.join(files, 'reloaded')],
          },
        }),
      )
    ).json()) as { id: string };
    const cert = (await (
      await world.server.request(
        '/api/v1/certificates',
        json('POST', certificateBody(world.inv, `agent-${slug}-${world.inv.suffix}`, { target_ids: [target.id] })),
      )
    ).json()) as { id: string };
    expect((await world.server.request(`/api/v1/certificates/${cert.id}/renew`, { method: 'POST' })).status).toBe(202);

    // Second run: CSR with a local key, then the deployment it created.
    const second = await agentOnce(host);
    expect(second.code, second.stderr).toBe(0);
    expect(
      JSON.parse(
        second.stdout
          .split('\n')
          .filter((l) => l.startsWith('{"csrs"'))
          .pop()!,
      ),
    ).toEqual({ csrs: 1, deployments: 1 });

    expect(fs.existsSync(path.join(files, 'reloaded'))).toBe(true);
    expect(fs.statSync(path.join(files, 'key.pem')).mode & 0o777).toBe(0o600);
    const verify = execFileSync('openssl', ['verify', '-CAfile', path.join(files, 'chain.pem'), path.join(files, 'cert.pem')], { encoding: 'utf8' });
    expect(verify).toMatch(/: OK/);
    const certKey = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', path.join(files, 'cert.pem')], { encoding: 'utf8' });
    const ownKey = execFileSync('openssl', ['pkey', '-pubout', '-in', path.join(files, 'key.pem')], { encoding: 'utf8' });
    expect(certKey).toBe(ownKey);

    const jobs = (await (await world.server.request(`/api/v1/jobs?certificate_id=${cert.id}`)).json()) as { data: Array<{ type: string; status: string }> };
    expect(jobs.data.map((j) => `${j.type}:${j.status}`).sort()).toEqual(['Deployment:Completed', 'Issuance:Completed']);
    expect(((await (await world.server.request(`/api/v1/certificates/${cert.id}`)).json()) as { status: string }).status).toBe('Active');
    const agent = (await (await world.server.request(`/api/v1/agents/${state.agent_id}`)).json()) as { status: string };
    expect(agent.status).toBe('Online');

    // Discovery: a scan of the deployed files finds the certificate certfleet issued (Managed)
    // and one it did not (Unmanaged).
    fs.mkdirSync(path.join(files, 'old'));
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
        '/CN=old.example.test',
        '-keyout',
        '/dev/null',
        '-out',
        path.join(files, 'old', 'old.crt'),
      ],
      { stdio: 'ignore' },
    );
    const scanned = await agentOnce(host, ['--discovery-dir', files]);
    expect(scanned.code, scanned.stderr).toBe(0);
    expect(
      JSON.parse(
        scanned.stdout
          .split('\n')
          .filter((l) => l.startsWith('{"csrs"'))
          .pop()!,
      ).discovered,
    ).toMatchObject({ found: 3, new: 3, errors: 0 });
    const discovered = (await (await world.server.request(`/api/v1/discovered-certificates?agent_id=${state.agent_id}`)).json()) as {
      data: Array<{ source_path: string; status: string; managed_certificate_id: string | null }>;
    };
    expect(discovered.data.map((d) => `${path.relative(files, d.source_path)}:${d.status}:${d.managed_certificate_id}`).sort()).toEqual([
      `cert.pem:Managed:${cert.id}`,
      'chain.pem:Unmanaged:null', // the CA certificate
      'old/old.crt:Unmanaged:null',
    ]);

    // Retired: the agent exits cleanly.
    await world.server.request(`/api/v1/agents/${state.agent_id}`, { method: 'DELETE' });
    const third = await agentOnce(host);
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/retired/);
  }, 60_000);

  it('refuses to start unregistered without a bootstrap token', async () => {
    const proc = run(['--server', world.server.url, '--state-file', path.join(dir, `none-${slug}`, 'state.json'), '--once'], {
      CERTFLEET_DATA_DIR: path.join(dir, `none-${slug}`),
    });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/CERTFLEET_AGENT_BOOTSTRAP_TOKEN/);
  });
});

describe('the agent bundle, idle', () => {
  it('makes one request per poll interval: its polls wait on the server and carry its heartbeats', async () => {
    const requests = async () => {
      const text = await (await world.server.request('/metrics')).text();
      const count = (route: string, method: string) =>
        [...text.matchAll(new RegExp(`^certfleet_http_requests_total\\{route="${route}",method="${method}",status="200"\\} (\\d+)$`, 'gm'))].reduce(
          (n, m) => n + Number(m[1]),
          0,
        );
      return { heartbeats: count('/api/v1/agents/:id/heartbeat', 'POST'), polls: count('/api/v1/agents/:id/work', 'GET') };
    };
    const before = await requests();
    const name = 'idle-bundle';
    const proc = runCertfleet(
      ['--server', world.server.url, '--name', name, '--state-file', path.join(dir, name, 'state.json'), '--poll-interval', '2', '--heartbeat-interval', '4'],
      { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap, CERTFLEET_DATA_DIR: path.join(dir, name) },
      bundle,
    );
    // 12 s from its registration (a loaded machine may take seconds to start it).
    const stateFile = path.join(dir, name, 'state.json');
    for (let i = 0; i < 300 && !fs.existsSync(stateFile); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    const after = await requests();
    const { agent_id } = JSON.parse(fs.readFileSync(path.join(dir, name, 'state.json'), 'utf8')) as { agent_id: string };
    const recorded = Number((await world.sql.query('SELECT heartbeats FROM agent_liveness WHERE agent_id = $1', [agent_id])).rows[0].heartbeats);
    // The first heartbeat goes out on its own at start; then about one poll each 2 s (the first
    // after a random delay up to 2 s), every other one carrying the heartbeat (due every 4 s): the
    // backstop never sends one, not even while a poll carrying it waits on the server.
    expect(after.heartbeats - before.heartbeats).toBe(1);
    expect(after.polls - before.polls).toBeGreaterThanOrEqual(4);
    expect(after.polls - before.polls).toBeLessThanOrEqual(8);
    expect(recorded).toBeGreaterThanOrEqual(3);
  }, 40_000);
});
