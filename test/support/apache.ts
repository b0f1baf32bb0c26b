/**
 * A real Apache httpd (Debian's apache2; scripts/install-test-deps.sh installs it) serving TLS
 * on a loopback port from files a test controls. It runs in the foreground as a child of the
 * test, from a configuration of its own (no /etc/apache2, no envvars).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { placeholderCertificate, presentedLeaf, readIfExists, stopChild, waitForPort } from './tls-daemon.ts';

export const apacheInstalled = fs.existsSync('/usr/sbin/apache2') && fs.existsSync('/usr/sbin/apachectl');

export interface TestApache {
  port: number;
  certPath: string;
  keyPath: string;
  configFile: string;
  presented(servername: string): Promise<Buffer>;
  stop(): Promise<void>;
}

const modules = ['mpm_event', 'authz_core', 'dir', 'socache_shmcb', 'ssl'];

export async function startApache(dir: string): Promise<TestApache> {
  if (!apacheInstalled) throw new Error('apache2 is not installed: run scripts/install-test-deps.sh (Debian package apache2)');
  const { certPath, keyPath } = placeholderCertificate(dir);
  const port = await freePort();
  const configFile = path.join(dir, 'apache.conf');
  fs.writeFileSync(path.join(dir, 'index.html'), 'ok\n'); // GET / answers 200
  const errorLog = path.join(dir, 'error.log');
  fs.writeFileSync(
    configFile,
    `ServerRoot ${dir}
ServerName localhost
PidFile ${path.join(dir, 'apache.pid')}
ErrorLog ${errorLog}
Mutex file:${dir} default
${modules.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
User www-data
Group www-data
Listen 127.0.0.1:${port}
SSLSessionCache shmcb:${path.join(dir, 'ssl_scache')}(512000)
<VirtualHost 127.0.0.1:${port}>
  SSLEngine on
  SSLCertificateFile ${certPath}
  SSLCertificateKeyFile ${keyPath}
  DocumentRoot ${dir}
  DirectoryIndex index.html
</VirtualHost>
`,
  );
  const child: ChildProcess = spawn('/usr/sbin/apache2', ['-f', configFile, '-DFOREGROUND'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForPort(port, child, () => `apache2 did not start: ${stderr}${readIfExists(errorLog)}`);
  return {
    port,
    certPath,
    keyPath,
    configFile,
    presented: (servername) => presentedLeaf(port, servername),
    // SIGWINCH is Apache's graceful stop; SIGTERM stops at once.
    stop: () => stopChild(child, 'SIGTERM'),
  };
}
