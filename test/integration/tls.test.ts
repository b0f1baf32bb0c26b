/** HTTPS through uWS SSLApp with a certificate made by the real openssl, and the plaintext warning. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

let dir: string;
let certPath: string;
let keyPath: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-tls-'));
  certPath = path.join(dir, 'cert.pem');
  keyPath = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? '';
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
      })
      .on('error', reject);
  });
}

describe('TLS', () => {
  let server: TestServer;
  afterAll(() => server?.close());

  it('serves HTTPS with the configured certificate', async () => {
    server = await startTestServer({ CERTFLEET_TLS_CERT_PATH: certPath, CERTFLEET_TLS_KEY_PATH: keyPath });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${server.url}/health`, await fs.readFile(certPath));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok' });
    expect(res.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(server.logLines.join('')).not.toContain('without TLS');
  });

  it('refuses to start when a TLS file cannot be read, naming the variable', async () => {
    await expect(startTestServer({ CERTFLEET_TLS_CERT_PATH: path.join(dir, 'missing.pem'), CERTFLEET_TLS_KEY_PATH: keyPath })).rejects.toThrow(
      /CERTFLEET_TLS_CERT_PATH: cannot read/,
    );
  });
});

describe('plaintext beyond loopback', () => {
  it('warns when binding all interfaces without TLS', async () => {
    const server = await startTestServer({ CERTFLEET_HOST: '0.0.0.0' });
    try {
      expect(server.logLines.some((l) => l.includes('listening beyond loopback without TLS'))).toBe(true);
      const port = new URL(server.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
