/**
 * The API's own certificate and key (CERTFLEET_TLS_CERT_PATH / CERTFLEET_TLS_KEY_PATH), read and
 * checked as a pair: at start a bad pair is a refusal naming the variable, and on SIGHUP it is
 * a logged refusal while the server keeps serving the pair it has (never a dead listener).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';

export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** The leaf's serial (hex) and expiry, for logs. */
  serial: string;
  notAfter: string;
}

function read(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${variable}: cannot read ${file}: ${(err as Error).message}`);
  }
}

export function loadTlsCredentials(files: TlsFiles): TlsCredentials {
  const cert = read('CERTFLEET_TLS_CERT_PATH', files.certPath);
  const key = read('CERTFLEET_TLS_KEY_PATH', files.keyPath);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert); // the first certificate of the chain
  } catch (err) {
    throw new Error(`CERTFLEET_TLS_CERT_PATH: ${files.certPath} holds no PEM certificate (${(err as Error).message})`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`CERTFLEET_TLS_KEY_PATH: ${files.keyPath} holds no unencrypted PEM private key (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new Error(`CERTFLEET_TLS_KEY_PATH: the key in ${files.keyPath} does not match the certificate in ${files.certPath}`);
  }
  return { cert, key, serial: leaf.serialNumber.toLowerCase(), notAfter: new Date(leaf.validTo).toISOString() };
}
