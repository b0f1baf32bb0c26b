/**
 * A throwaway CA and a loopback server certificate it signed (127.0.0.1, localhost), made with
 * the real openssl: what pebble and the HTTPS certfleet of the client conformance tests serve,
 * and what their clients are told to trust.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface TlsCertificate {
  certPath: string;
  keyPath: string;
  caPath: string;
  caPem: string;
}

export function makeTlsCertificate(dir: string, caName = 'certfleet test TLS CA'): TlsCertificate {
  fs.mkdirSync(dir, { recursive: true });
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${caName}`,
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', 'key.pem', '-out', 'tls.csr']);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'cert.pem']);
  const caPath = path.join(dir, 'ca.pem');
  return { certPath: path.join(dir, 'cert.pem'), keyPath: path.join(dir, 'key.pem'), caPath, caPem: fs.readFileSync(caPath, 'utf8') };
}
