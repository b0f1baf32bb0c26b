/**
 * The release as an operator installs it: `npm pack` (prepack runs `npm run build`), a global
 * install of the tarball into a fresh prefix, then `certfleet serve` and `certfleet agent` from
 * an empty directory. The installed package runs the compiled JavaScript in dist/ with plain node:
 * no src/, no tsx, worker threads included (the agent's CSR is verified and signed in them).
 *
 * The pack runs in a scratch copy of the package (node_modules linked), so the build never
 * rewrites the checkout's dist/ under another test file's feet.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertfleet, serve, type CertfleetProcess } from '../support/process.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const adminKey = 'release-admin-key-0123456789';
const bootstrap = 'release-bootstrap-token-0123456789';

let scratch: string;
let installed: string; // <prefix>/lib/node_modules/certfleet
let bin: string; // <prefix>/bin/certfleet
let server: (CertfleetProcess & { url: string }) | undefined;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-release-'));
  fs.chmodSync(scratch, 0o711); // run as root, the embedded PostgreSQL's own user must reach ./.certfleet
  const source = path.join(scratch, 'source');
  fs.mkdirSync(source);
  for (const entry of ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'migrations', 'scripts']) {
    fs.cpSync(path.join(root, entry), path.join(source, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(source, 'node_modules'), 'dir');
  const npm = { cwd: source, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 << 20 };
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', scratch], npm);
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
  const prefix = path.join(scratch, 'prefix');
  await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(scratch, packed!.filename)], npm);
  installed = path.join(prefix, 'lib', 'node_modules', 'certfleet');
  bin = path.join(prefix, 'bin', 'certfleet');
}, 300_000);

afterAll(async () => {
  if (server) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('the packed release', () => {
  it('holds compiled JavaScript, the migrations and no TypeScript runtime', () => {
    expect(fs.existsSync(path.join(installed, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'workers', 'worker.js'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'certfleet-agent.cjs'))).toBe(true);
    expect(fs.readdirSync(path.join(installed, 'migrations')).filter((f) => f.endsWith('.sql')).length).toBeGreaterThan(10);
    expect(fs.existsSync(path.join(installed, 'src'))).toBe(false);
    // tsx is a development dependency: nothing installed with the release can load TypeScript.
    expect(fs.existsSync(path.join(installed, 'node_modules', 'tsx'))).toBe(false);
    expect(fs.existsSync(path.join(installed, '..', 'tsx'))).toBe(false);
  });

  it('serves from an empty directory and issues to a real agent through its worker threads', async () => {
    const home = fs.mkdtempSync(path.join(scratch, 'empty-'));
    fs.chmodSync(home, 0o711);
    expect(fs.readdirSync(home)).toEqual([]);
    server = await serve({ CERTFLEET_ADMIN_API_KEY: adminKey, CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap, CERTFLEET_WORKER_THREADS: '1' }, bin, home);
    // No CERTFLEET_DATA_DIR: the embedded PostgreSQL lives in ./.certfleet of the directory it started in.
    expect(fs.existsSync(path.join(home, '.certfleet', 'postgres'))).toBe(true);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string; version: string };
    expect(health).toMatchObject({ status: 'ok', version: JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version });

    const admin = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const post = async (url: string, body: unknown) => {
      const res = await fetch(`${server!.url}${url}`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      expect(res.status, `${url}: ${await res.clone().text()}`).toBeLessThan(300);
      return (await res.json()) as { id: string };
    };
    await post('/api/v1/teams', { id: 'rt', name: 'rt' });
    await post('/api/v1/owners', { id: 'ro', name: 'ro', email: 'ro@example.test', team_id: 'rt' });
    await post('/api/v1/issuers', { id: 'ri', name: 'ri', type: 'local' });
    await post('/api/v1/renewal-policies', { id: 'rp', name: 'rp' });

    const agentDir = path.join(home, 'agent');
    const agentOnce = async () => {
      const proc = runCertfleet(
        ['agent', '--server', server!.url, '--name', 'release-host', '--state-file', path.join(agentDir, 'state.json'), '--once'],
        { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap, CERTFLEET_DATA_DIR: agentDir },
        bin,
        home,
      );
      expect(await proc.exited, proc.stderr()).toBe(0);
      return proc.stdout.join('\n');
    };
    await agentOnce(); // registers
    const { agent_id: agentId } = JSON.parse(fs.readFileSync(path.join(agentDir, 'state.json'), 'utf8')) as { agent_id: string };
    const files = path.join(agentDir, 'tls');
    fs.mkdirSync(files); // the connector writes into existing directories only, as into /etc/nginx
    const target = await post('/api/v1/targets', {
      name: 'release-site',
      type: 'File',
      agent_id: agentId,
      config: { cert_path: path.join(files, 'cert.pem'), chain_path: path.join(files, 'chain.pem'), key_path: path.join(files, 'key.pem') },
    });
    const certificate = await post('/api/v1/certificates', {
      name: 'release-cert',
      common_name: 'release.example.test',
      owner_id: 'ro',
      team_id: 'rt',
      issuer_id: 'ri',
      renewal_policy_id: 'rp',
      target_ids: [target.id],
    });
    expect((await fetch(`${server.url}/api/v1/certificates/${certificate.id}/renew`, { method: 'POST', headers: admin })).status).toBe(202);
    const report = await agentOnce(); // CSR (verified in a worker), signed in a worker, deployed
    expect(report, server.stdout.slice(-20).join('\n')).toMatch(/\{"csrs":1,"deployments":1/);

    const jobs = (await (await fetch(`${server.url}/api/v1/jobs?certificate_id=${certificate.id}`, { headers: admin })).json()) as {
      data: Array<{ type: string; status: string }>;
    };
    expect(jobs.data.map((j) => `${j.type}:${j.status}`).sort(), JSON.stringify(jobs.data)).toEqual(['Deployment:Completed', 'Issuance:Completed']);
    const verify = execFileSync('openssl', ['verify', '-CAfile', path.join(files, 'chain.pem'), path.join(files, 'cert.pem')], { encoding: 'utf8' });
    expect(verify).toMatch(/: OK/);
  }, 120_000);
});
