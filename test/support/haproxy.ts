/**
 * A real HAProxy (Debian's package; scripts/install-test-deps.sh installs it) terminating TLS on
 * a loopback port from one combined PEM a test controls, in master-worker mode (a reload is
 * SIGUSR2 to the master), with its runtime API on a unix socket at admin level.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { placeholderCertificate, presentedLeaf, stopChild, waitForPort } from './tls-daemon.ts';

export const haproxyInstalled = fs.existsSync('/usr/sbin/haproxy');

export interface TestHaproxy {
  port: number;
  /** The `crt` file: leaf, chain and key. */
  pemPath: string;
  configFile: string;
  adminSocket: string;
  /** argv that makes the master reload its workers. */
  reloadCommand: string[];
  presented(servername: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export async function startHaproxy(dir: string): Promise<TestHaproxy> {
  if (!haproxyInstalled) throw new Error('haproxy is not installed: run scripts/install-test-deps.sh (Debian package haproxy)');
  const { certPath, keyPath } = placeholderCertificate(dir);
  const pemPath = path.join(dir, 'tls', 'site.pem');
  fs.writeFileSync(pemPath, fs.readFileSync(certPath, 'utf8') + fs.readFileSync(keyPath, 'utf8'), { mode: 0o600 });
  const port = await freePort();
  const configFile = path.join(dir, 'haproxy.cfg');
  const adminSocket = path.join(dir, 'admin.sock');
  fs.writeFileSync(
    configFile,
    `global
  stats socket ${adminSocket} mode 600 level admin
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend tls
  bind 127.0.0.1:${port} ssl crt ${pemPath}
  http-request return status 200 content-type text/plain string ok
`,
  );
  execFileSync('/usr/sbin/haproxy', ['-c', '-q', '-f', configFile]);
  const child: ChildProcess = spawn('/usr/sbin/haproxy', ['-W', '-db', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForPort(port, child, () => `haproxy did not start: ${stderr}`);
  return {
    port,
    pemPath,
    configFile,
    adminSocket,
    reloadCommand: ['kill', '-USR2', String(child.pid)],
    presented: (servername) => presentedLeaf(port, servername),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}
