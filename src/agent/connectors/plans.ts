/**
 * What each target type writes, runs and checks (docs/connectors.md). The server validated the
 * config against the type's schema (src/services/fleet/target-configs.ts, kept in step with the
 * fields read here by plans.test.ts); this turns it into a DeploymentPlan with the daemon's own
 * defaults: the files in the layout the daemon reads, its configuration test, its graceful
 * reload, and a TLS check of the leaf it serves afterwards.
 */
import type { DeploymentPlan, DeployFile } from './deploy.ts';

/** What was issued to this host: the leaf, the chain above it, and the key generated here. */
export interface DeploymentMaterial {
  leafPem: string;
  /** Intermediates, leaf excluded (may be empty). */
  chainPem: string;
  keyPem: string;
  leafDer: Buffer;
  serial: string;
  /** SNI for the check unless the target names one: the leaf's first non-wildcard DNS name. */
  serverName: string | undefined;
}

export interface TargetConfig {
  cert_path?: string;
  chain_path?: string;
  key_path?: string;
  pem_path?: string;
  config_file?: string;
  admin_socket?: string;
  validate_command?: string[];
  reload_command?: string[];
  verify?: false | { address?: string; server_name?: string; timeout_seconds?: number };
}

const key = (path: string, m: DeploymentMaterial): DeployFile => ({ path, content: m.keyPem, mode: 0o600 });
/** The leaf, followed by the chain unless the chain has a file of its own. */
const certFiles = (c: TargetConfig, m: DeploymentMaterial): DeployFile[] =>
  c.chain_path
    ? [
        { path: c.cert_path!, content: m.leafPem },
        { path: c.chain_path, content: m.chainPem },
      ]
    : [{ path: c.cert_path!, content: m.leafPem + m.chainPem }];

function verifyFor(c: TargetConfig, m: DeploymentMaterial, byDefault: boolean): DeploymentPlan['verify'] {
  if (c.verify === false || (c.verify === undefined && !byDefault)) return undefined;
  const address = c.verify?.address ?? '127.0.0.1:443';
  const cut = address.lastIndexOf(':');
  return {
    host: address.slice(0, cut).replace(/^\[|\]$/g, ''),
    port: Number(address.slice(cut + 1)),
    serverName: c.verify?.server_name ?? m.serverName,
    expectedLeaf: m.leafDer,
    expectedSerial: m.serial,
    timeoutMs: (c.verify?.timeout_seconds ?? 10) * 1000,
  };
}

function needs(c: TargetConfig, type: string, fields: Array<keyof TargetConfig>): void {
  const missing = fields.filter((f) => !c[f]);
  if (missing.length) throw new Error(`a ${type} target needs ${missing.join(' and ')} in its config`);
}

const planners: Record<string, (c: TargetConfig, m: DeploymentMaterial) => DeploymentPlan> = {
  file(c, m) {
    needs(c, 'file', ['cert_path']);
    return {
      connector: 'file',
      files: [...certFiles(c, m), ...(c.key_path ? [key(c.key_path, m)] : [])],
      validateCommand: c.validate_command,
      reloadCommand: c.reload_command,
      verify: verifyFor(c, m, false),
    };
  },
  nginx(c, m) {
    needs(c, 'NGINX', ['cert_path', 'key_path']);
    const conf = c.config_file ? ['-c', c.config_file] : [];
    return {
      connector: 'nginx',
      // ssl_certificate holds the leaf and then its chain.
      files: [{ path: c.cert_path!, content: m.leafPem + m.chainPem }, key(c.key_path!, m)],
      validateCommand: c.validate_command ?? ['nginx', ...conf, '-t', '-q'],
      reloadCommand: c.reload_command ?? ['nginx', ...conf, '-s', 'reload'],
      verify: verifyFor(c, m, true),
    };
  },
  apache(c, m) {
    needs(c, 'Apache', ['cert_path', 'key_path']);
    const conf = c.config_file ? ['-f', c.config_file] : [];
    return {
      connector: 'apache',
      files: [...certFiles(c, m), key(c.key_path!, m)],
      validateCommand: c.validate_command ?? ['apachectl', ...conf, '-t'],
      reloadCommand: c.reload_command ?? ['apachectl', ...conf, '-k', 'graceful'],
      verify: verifyFor(c, m, true),
    };
  },
  haproxy(c, m) {
    needs(c, 'HAProxy', ['pem_path']);
    // HAProxy's crt file: the leaf, its chain and the key in one PEM.
    const pem = m.leafPem + m.chainPem + m.keyPem;
    const runtime = c.admin_socket !== undefined;
    return {
      connector: 'haproxy',
      files: [{ path: c.pem_path!, content: pem, mode: 0o600 }],
      validateCommand: runtime ? undefined : (c.validate_command ?? ['haproxy', '-c', '-f', c.config_file ?? '/etc/haproxy/haproxy.cfg']),
      reloadCommand: runtime ? undefined : (c.reload_command ?? ['systemctl', 'reload', 'haproxy']),
      runtimeApi: runtime ? { socket: c.admin_socket!, certPath: c.pem_path!, pem } : undefined,
      verify: verifyFor(c, m, true),
    };
  },
};

const connectorOf: Record<string, string> = { NGINX: 'nginx', Apache: 'apache', HAProxy: 'haproxy' };

/** The plan for a target of `type` (an unknown or general type is a file target). */
export function planDeployment(type: string, config: TargetConfig, material: DeploymentMaterial): DeploymentPlan {
  return planners[connectorOf[type] ?? 'file']!(config, material);
}
