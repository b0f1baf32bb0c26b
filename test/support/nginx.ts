/**
 * A real nginx (Debian's package; scripts/install-test-deps.sh installs it) serving TLS on a
 * loopback port from files a test controls, for deploy-and-reload tests. Everything it writes
 * stays in its own directory; it runs in the foreground as a child of the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { placeholderCertificate, presentedLeaf, readIfExists, stopChild, waitForPort } from './tls-daemon.ts';

export const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

export interface TestNginx {
  port: number;
  certPath: string;
  keyPath: string;
  /** Its main configuration file. */
  configFile: string;
  /** argv vectors for a deployment target's validate and reload commands. */
  validateCommand: string[];
  reloadCommand: string[];
  /** The DER of the certificate nginx presents to a new connection. */
  presented(servername: string): Promise<Buffer>;
  stop(): Promise<void>;
}

/** Starts nginx with a placeholder self-signed certificate (replaced by the deployment). */
export async function startNginx(dir: string): Promise<TestNginx> {
  if (!nginxBin) throw new Error('nginx is not installed: run scripts/install-test-deps.sh (Debian package nginx-light)');
  const { certPath, keyPath } = placeholderCertificate(dir);
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  const errorLog = path.join(dir, 'error.log');
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
  fs.writeFileSync(
    conf,
    `daemon off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${errorLog};
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${certPath};
    ssl_certificate_key ${keyPath};
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  const base = [nginxBin, '-c', conf, '-e', errorLog];
  const child: ChildProcess = spawn(base[0]!, base.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForPort(port, child, () => `nginx did not start: ${stderr}${readIfExists(errorLog)}`);
  return {
    port,
    certPath,
    keyPath,
    configFile: conf,
    validateCommand: [...base, '-t', '-q'],
    reloadCommand: [...base, '-s', 'reload'],
    presented: (servername) => presentedLeaf(port, servername),
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}
