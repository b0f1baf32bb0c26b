/**
 * A real nginx (Debian's package; scripts/install-test-deps.sh installs it) serving TLS on a
 * loopback port from files a test controls, for deploy-and-reload tests. Everything it writes
 * stays in its own directory; it runs in the foreground as a child of the test.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './free-port.ts';
import tls from 'node:tls';

export const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

export interface TestNginx {
  port: number;
  certPath: string;
  keyPath: string;
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
  fs.mkdirSync(path.join(dir, 'tls'), { recursive: true });
  const certPath = path.join(dir, 'tls', 'cert.pem');
  const keyPath = path.join(dir, 'tls', 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=placeholder', '-keyout', keyPath, '-out', certPath],
    { stdio: 'ignore' },
  );
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
events { worker_connections 64; }
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
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when the port accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`nginx did not start: ${stderr}${fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    certPath,
    keyPath,
    validateCommand: [...base, '-t', '-q'],
    reloadCommand: [...base, '-s', 'reload'],
    presented: (servername) =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
          const raw = socket.getPeerCertificate().raw;
          socket.destroy();
          resolve(raw);
        });
        socket.on('error', reject);
      }),
    async stop() {
      if (child.exitCode === null) child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
