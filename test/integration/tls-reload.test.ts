/**
 * The API's certificate renewed without a restart: SIGHUP (RunningApp.reloadTls) re-reads
 * CERTFLEET_TLS_CERT_PATH / CERTFLEET_TLS_KEY_PATH. New connections get the new certificate, a
 * keep-alive connection opened before it goes on working, and a pair that fails its checks is
 * refused while the server keeps serving the certificate it has. Both HTTP engines: uWS (a new
 * app takes over the port) and the node:http fallback (its https server's context is swapped).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHttpEngine } from '../../src/http/uws.ts';
import { createTestDatabase } from '../support/database.ts';
import { serve } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let dir: string;
const pairs: Record<'a' | 'b', { cert: Buffer; key: Buffer; serial: string }> = {} as never;

/** A self-signed P-256 certificate for 127.0.0.1 made by the real openssl, and its serial. */
function makePair(name: string): { cert: Buffer; key: Buffer; serial: string } {
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]),
    { stdio: 'ignore' },
  );
  const serial = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', certPath], { encoding: 'utf8' }).trim().split('=')[1]!.toLowerCase();
  return { cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath), serial };
}

/** Installs a pair where the server reads it, each file replaced atomically (as certbot's deploy does). */
function install(files: { certPath: string; keyPath: string }, pair: { cert: Buffer; key: Buffer }): void {
  for (const [file, data] of [
    [files.certPath, pair.cert],
    [files.keyPath, pair.key],
  ] as const) {
    fs.writeFileSync(`${file}.new`, data);
    fs.renameSync(`${file}.new`, file);
  }
}

/** GET /health over `agent`; resolves with the status and the serial of the certificate the server presented. */
function get(url: string, agent: https.Agent): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${url}/health`, { agent, timeout: 10_000 }, (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber.toLowerCase();
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      })
      .on('timeout', function (this: import('node:http').ClientRequest) {
        this.destroy(new Error(`GET ${url}/health: no answer in 10 s`));
      })
      .on('error', reject);
  });
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-tls-reload-'));
  pairs.a = makePair('a');
  pairs.b = makePair('b');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const trustBoth = () => ({ ca: [pairs.a.cert, pairs.b.cert] });

/** uWS only where its binary loads (Node.js 16-20; scripts/test-node24.sh runs this file on 24). */
const engines = [...(loadHttpEngine().name === 'uWebSockets.js' ? [{ engine: 'uws', name: 'uWebSockets.js' }] : []), { engine: 'node', name: 'node:http' }];

describe.each(engines)('TLS reload on $name', ({ engine, name }) => {
  let server: TestServer;
  let files: { certPath: string; keyPath: string };
  afterAll(() => server?.close());

  it('serves the new certificate to new connections, keeps open ones, refuses a bad pair', async () => {
    files = { certPath: path.join(dir, `${engine}-cert.pem`), keyPath: path.join(dir, `${engine}-key.pem`) };
    install(files, pairs.a);
    server = await startTestServer({ CERTFLEET_HTTP_ENGINE: engine, CERTFLEET_TLS_CERT_PATH: files.certPath, CERTFLEET_TLS_KEY_PATH: files.keyPath });
    const health = await new Promise<{ http_engine: { name: string } }>((resolve, reject) => {
      https
        .get(`${server.url}/health`, trustBoth(), (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(JSON.parse(body) as { http_engine: { name: string } }));
        })
        .on('error', reject);
    });
    expect(health.http_engine.name).toBe(name);

    const kept = new https.Agent({ keepAlive: true, maxSockets: 1, ...trustBoth() });
    expect(await get(server.url, kept)).toEqual({ status: 200, serial: pairs.a.serial });

    install(files, pairs.b);
    expect(server.app.reloadTls()).toMatchObject({ serial: pairs.b.serial });
    const fresh = () => new https.Agent({ keepAlive: false, ...trustBoth() });
    expect(await get(server.url, fresh())).toEqual({ status: 200, serial: pairs.b.serial });
    // The connection opened before the reload still answers (on the certificate it shook hands with).
    expect(await get(server.url, kept)).toEqual({ status: 200, serial: pairs.a.serial });
    kept.destroy();

    // A key that does not match the certificate: refused, nothing changes.
    install(files, { cert: pairs.a.cert, key: pairs.b.key });
    expect(() => server.app.reloadTls()).toThrow(/CERTFLEET_TLS_KEY_PATH: the key in .* does not match the certificate/);
    expect(await get(server.url, fresh())).toEqual({ status: 200, serial: pairs.b.serial });
    fs.rmSync(files.certPath);
    expect(() => server.app.reloadTls()).toThrow(/CERTFLEET_TLS_CERT_PATH: cannot read/);
    expect(await get(server.url, fresh())).toEqual({ status: 200, serial: pairs.b.serial });

    // Operators alert on the API's own certificate expiring.
    const metrics = await new Promise<string>((resolve, reject) => {
      https
        .get(`${server.url}/metrics`, trustBoth(), (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    const expiry = Number(/certfleet_tls_certificate_expiry_timestamp_seconds (\d+)/.exec(metrics)?.[1]);
    expect(expiry * 1000 - Date.now()).toBeGreaterThan(86_400_000); // pair b: 2 days
  });
});

describe('TLS files checked at start', () => {
  it('refuses a key that does not match the certificate, naming the variable', async () => {
    const files = { certPath: path.join(dir, 'mismatch-cert.pem'), keyPath: path.join(dir, 'mismatch-key.pem') };
    install(files, { cert: pairs.a.cert, key: pairs.b.key });
    await expect(startTestServer({ CERTFLEET_TLS_CERT_PATH: files.certPath, CERTFLEET_TLS_KEY_PATH: files.keyPath })).rejects.toThrow(
      /CERTFLEET_TLS_KEY_PATH: the key in .* does not match the certificate/,
    );
  });
});

describe('certfleet serve and SIGHUP', () => {
  it('reloads on SIGHUP, logs a refused pair and goes on serving', async () => {
    const db = await createTestDatabase();
    const files = { certPath: path.join(dir, 'serve-cert.pem'), keyPath: path.join(dir, 'serve-key.pem') };
    install(files, pairs.a);
    const proc = await serve({ DATABASE_URL: db.url, CERTFLEET_TLS_CERT_PATH: files.certPath, CERTFLEET_TLS_KEY_PATH: files.keyPath });
    try {
      const agent = () => new https.Agent({ keepAlive: false, ...trustBoth() });
      expect((await get(proc.url, agent())).serial).toBe(pairs.a.serial);
      install(files, pairs.b);
      const reloaded = proc.waitForLog((l) => l.msg === 'TLS certificate reloaded: new connections use it', 20_000);
      proc.child.kill('SIGHUP');
      expect(await reloaded).toMatchObject({ serial: pairs.b.serial });
      expect(await get(proc.url, agent())).toEqual({ status: 200, serial: pairs.b.serial });

      fs.writeFileSync(files.keyPath, 'not a key');
      const refused = proc.waitForLog((l) => l.msg === 'TLS reload refused: still serving the previous certificate', 20_000);
      proc.child.kill('SIGHUP');
      expect(String((await refused).reason)).toMatch(/CERTFLEET_TLS_KEY_PATH/);
      expect(await get(proc.url, agent())).toEqual({ status: 200, serial: pairs.b.serial });
      expect(proc.child.exitCode).toBeNull();
    } finally {
      proc.child.kill('SIGTERM');
      const stopped = await Promise.race([proc.exited, new Promise((resolve) => setTimeout(() => resolve('still running 15 s after SIGTERM'), 15_000))]);
      expect(stopped, `stderr: ${proc.stderr().slice(-1000)}\nlog: ${proc.stdout.slice(-8).join('\n')}`).toBe(0);
      await db.drop();
    }
  }, 120_000);
});
