/**
 * What the real-daemon tests share: a placeholder certificate to start from, waiting for a
 * loopback port to accept connections, and the leaf a new TLS connection is handed.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

/** A self-signed P-256 certificate and key in dir/tls (replaced by the first deployment). */
export function placeholderCertificate(dir: string): { certPath: string; keyPath: string } {
  fs.mkdirSync(path.join(dir, 'tls'), { recursive: true });
  const certPath = path.join(dir, 'tls', 'cert.pem');
  const keyPath = path.join(dir, 'tls', 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=placeholder', '-keyout', keyPath, '-out', certPath],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath };
}

/** Resolves once 127.0.0.1:port accepts a connection; throws `describe()` if the child exits or 10 s pass. */
export async function waitForPort(port: number, child: ChildProcess | undefined, describe: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if ((child && child.exitCode !== null) || Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The DER of the certificate presented to a new connection on 127.0.0.1:port. */
export function presentedLeaf(port: number, servername: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(raw);
    });
    socket.on('error', reject);
  });
}

/** Stops a foreground daemon: `signal`, then SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export const readIfExists = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
