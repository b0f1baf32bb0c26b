/**
 * The deployment connectors against real daemons from Debian (nginx, Apache httpd, HAProxy by
 * reload and by its runtime API), each on a loopback port. For every connector: a deployment
 * makes the daemon serve the new leaf (checked by a TLS handshake, by the connector itself and
 * again here); a broken daemon configuration is caught by the daemon's own check, the previous
 * files come back and the daemon keeps serving the old leaf; a second rotation then works. The
 * config each target uses passes the server's schema for its type, so agent and server agree.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, type DeploymentPlan } from '../../src/agent/connectors/deploy.ts';
import { deploymentMaterial } from '../../src/agent/connectors/material.ts';
import { planDeployment, type DeploymentMaterial, type TargetConfig } from '../../src/agent/connectors/plans.ts';
import { targetConfigSchemas, type TargetType } from '../../src/services/fleet/target-configs.ts';
import { startApache } from '../support/apache.ts';
import { startHaproxy } from '../support/haproxy.ts';
import { startNginx } from '../support/nginx.ts';
import { makeTlsCertificate } from '../support/tls-certificate.ts';

let dir: string;
let issued = 0;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-connectors-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fresh CA-signed leaf for localhost / 127.0.0.1, its chain and key, as the agent holds them. */
function issue(): DeploymentMaterial {
  const tls = makeTlsCertificate(path.join(dir, `issued-${++issued}`), `connector test CA ${issued}`);
  return deploymentMaterial(fs.readFileSync(tls.certPath, 'utf8') + tls.caPem, fs.readFileSync(tls.keyPath, 'utf8'), `cert-${issued}`);
}

interface Daemon {
  port: number;
  configFile: string;
  presented(servername: string): Promise<Buffer>;
  stop(): Promise<void>;
}

interface Case {
  name: string;
  type: TargetType;
  start(dir: string): Promise<Daemon & { config: TargetConfig }>;
  /** A line that makes the daemon's configuration check fail; undefined: the runtime API has none. */
  breakage: string | undefined;
}

const cases: Case[] = [
  {
    name: 'nginx (nginx -t, nginx -s reload)',
    type: 'NGINX',
    breakage: 'certfleet_unknown_directive on;',
    async start(d) {
      const nginx = await startNginx(d);
      return { ...nginx, config: { cert_path: nginx.certPath, key_path: nginx.keyPath, config_file: nginx.configFile } };
    },
  },
  {
    name: 'Apache (apachectl -t, apachectl -k graceful)',
    type: 'Apache',
    breakage: 'CertfleetUnknownDirective on',
    async start(d) {
      const apache = await startApache(d);
      return { ...apache, config: { cert_path: apache.certPath, key_path: apache.keyPath, config_file: apache.configFile } };
    },
  },
  {
    name: 'HAProxy (haproxy -c, master reload)',
    type: 'HAProxy',
    breakage: 'certfleet-unknown-keyword',
    async start(d) {
      const haproxy = await startHaproxy(d);
      return { ...haproxy, config: { pem_path: haproxy.pemPath, config_file: haproxy.configFile, reload_command: haproxy.reloadCommand } };
    },
  },
  {
    name: 'HAProxy (runtime API: set ssl cert + commit, no reload)',
    type: 'HAProxy',
    breakage: undefined,
    async start(d) {
      const haproxy = await startHaproxy(d);
      return { ...haproxy, config: { pem_path: haproxy.pemPath, admin_socket: haproxy.adminSocket } };
    },
  },
];

describe.each(cases)('the $name connector', ({ type, start, breakage }) => {
  let daemon: Daemon & { config: TargetConfig };
  let config: TargetConfig;
  const served = () => daemon.presented('localhost');

  beforeAll(async () => {
    daemon = await start(fs.mkdtempSync(path.join(dir, `${type}-`)));
    config = { ...daemon.config, verify: { address: `127.0.0.1:${daemon.port}`, server_name: 'localhost', timeout_seconds: 10 } };
    expect(targetConfigSchemas[type].safeParse(config).error).toBeUndefined();
  });
  afterAll(() => daemon.stop());

  let first: DeploymentMaterial;
  it('deploys, and the daemon serves the new leaf', async () => {
    first = issue();
    const result = await deploy(planDeployment(type, config, first));
    expect(result.status === 'failed' && result.reason).toBe(false);
    expect(result.status).toBe('deployed');
    expect(result.report.served).toMatchObject({ matches: true, serial: first.serial, address: `127.0.0.1:${daemon.port}` });
    expect(result.report.commands.every((c) => c.exit_code === 0)).toBe(true);
    if (config.admin_socket) {
      expect(result.report.commands).toEqual([]); // no reload at all
      expect(result.report.runtime_api!.responses.join('\n')).toMatch(/Success!/);
    } else {
      expect(result.report.commands.length).toBe(2); // validate, reload
    }
    expect((await served()).equals(first.leafDer)).toBe(true);
  });

  it('does nothing for a certificate it already serves', async () => {
    const result = await deploy(planDeployment(type, config, first));
    expect(result.status).toBe('unchanged');
    expect(result.report.commands).toEqual([]);
    expect(result.report.served?.matches).toBe(true);
  });

  it('rejects a broken deployment, restores the files, and the daemon keeps serving the old leaf', async () => {
    const next = issue();
    let plan: DeploymentPlan = planDeployment(type, config, next);
    const original = fs.readFileSync(daemon.configFile, 'utf8');
    if (breakage) {
      fs.appendFileSync(daemon.configFile, `\n${breakage}\n`); // what the daemon's own check must catch
    } else {
      // The runtime API checks what it is given: a certificate without its key is refused.
      plan = { ...plan, runtimeApi: { ...plan.runtimeApi!, pem: next.leafPem + next.chainPem } };
    }
    const before = plan.files.map((f) => fs.readFileSync(f.path, 'utf8'));
    try {
      const result = await deploy(plan);
      expect(result.status).toBe('failed');
      if (result.status !== 'failed') return;
      expect(result.reason).toMatch(breakage ? /certfleet|unknown|invalid/i : /HAProxy refused/);
      expect(result.report.rolled_back).toBe(true);
      expect(plan.files.map((f) => fs.readFileSync(f.path, 'utf8'))).toEqual(before);
    } finally {
      fs.writeFileSync(daemon.configFile, original);
    }
    expect((await served()).equals(first.leafDer)).toBe(true);
  });

  it('rotates again once the configuration is sound', async () => {
    const second = issue();
    const result = await deploy(planDeployment(type, config, second));
    expect(result.status).toBe('deployed');
    expect(result.report.served).toMatchObject({ matches: true, serial: second.serial });
    expect((await served()).equals(second.leafDer)).toBe(true);
  });
});

describe('the post-deploy check', () => {
  it('fails a deployment the daemon does not serve, and the retry reloads the unchanged files', async () => {
    const nginx = await startNginx(fs.mkdtempSync(path.join(dir, 'verify-')));
    try {
      const config: TargetConfig = {
        cert_path: nginx.certPath,
        key_path: nginx.keyPath,
        config_file: nginx.configFile,
        verify: { address: `127.0.0.1:${nginx.port}`, server_name: 'localhost', timeout_seconds: 1 },
      };
      const material = issue();
      // A reload that does nothing: the files change, nginx keeps the old leaf.
      const lost = await deploy(planDeployment('NGINX', { ...config, reload_command: ['true'] }, material));
      expect(lost.status).toBe('failed');
      expect(lost.status === 'failed' && lost.reason).toMatch(/still serves serial [0-9a-f]+, not the deployed/);
      expect(lost.report.served).toMatchObject({ matches: false });
      expect(lost.report.served!.attempts).toBeGreaterThan(1);

      const retry = await deploy(planDeployment('NGINX', config, material));
      expect(retry.status).toBe('deployed');
      expect(retry.report.files.every((f) => !f.changed)).toBe(true);
      expect(retry.report.commands.map((c) => c.argv.at(-1))).toEqual(['-q', 'reload']);
      expect((await nginx.presented('localhost')).equals(material.leafDer)).toBe(true);
    } finally {
      await nginx.stop();
    }
  });

  it('says so when nothing answers on the address', async () => {
    const material = issue();
    const certPath = path.join(dir, 'nowhere.pem');
    const result = await deploy(planDeployment('File', { cert_path: certPath, verify: { address: '127.0.0.1:1', timeout_seconds: 1 } }, material));
    expect(result.status).toBe('failed');
    expect(result.status === 'failed' && result.reason).toMatch(/no TLS handshake with 127\.0\.0\.1:1 succeeded.*ECONNREFUSED/);
    expect(fs.readFileSync(certPath, 'utf8')).toBe(material.leafPem + material.chainPem); // validated files stay
  });
});
