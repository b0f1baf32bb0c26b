/**
 * certfleet behind a real nginx and a real HAProxy (Debian's), configured as
 * docs/operator/deploy.md says, on both HTTP engines:
 * - requests and health checks pass through (HTTP/1.1 upstream, Host passed on, so ACME URLs
 *   name the proxy's origin);
 * - with CERTFLEET_TRUSTED_PROXIES naming the proxies' source address (127.0.0.2: both bind
 *   their upstream connections to it), the per-IP ACME new-account limit counts the clients the
 *   proxies forward for, however the client forges X-Forwarded-For, and a forged header sent
 *   straight to certfleet is ignored.
 * Clients get addresses of their own on loopback (127.0.0.3, .4, .5) by binding to them.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { nginxBin } from '../support/nginx.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { stopChild, waitForPort } from '../support/tls-daemon.ts';

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request from `localAddress` (a loopback address of the client's own) to 127.0.0.1:`port`. */
function request(port: number, localAddress: string, method: string, urlPath: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, localAddress, method, path: urlPath, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** new-account through `port` (a proxy or certfleet itself), from `localAddress`, with a forged X-Forwarded-For. */
async function newAccount(port: number, localAddress: string, forgedForwardedFor: string): Promise<number> {
  const nonce = (await request(port, localAddress, 'HEAD', '/acme/new-nonce')).headers['replay-nonce'] as string;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // The URL as the client knows it: the proxies pass Host on, so certfleet sees the same.
  const url = `http://127.0.0.1:${port}/acme/new-account`;
  const protectedB64 = b64(JSON.stringify({ alg: 'ES256', jwk: publicKey.export({ format: 'jwk' }), nonce, url }));
  const payloadB64 = b64('{"termsOfServiceAgreed":true}');
  const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const body = JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64(signature) });
  const answer = await request(
    port,
    localAddress,
    'POST',
    '/acme/new-account',
    { 'content-type': 'application/jose+json', 'x-forwarded-for': forgedForwardedFor },
    body,
  );
  return answer.status;
}

/** A daemon run in the foreground as the test's child. */
async function startDaemon(argv: string[], port: number, what: string): Promise<ChildProcess> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  await waitForPort(port, child, () => `${what} did not start: ${stderr}`);
  return child;
}

/** HAProxy's runtime API: one command, its whole answer. */
function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let text = '';
    conn.on('data', (c: Buffer) => (text += c.toString()));
    conn.on('end', () => resolve(text));
    conn.on('error', reject);
    conn.end(`${command}\n`);
  });
}

describe.each(['uws', 'node'])('behind nginx and HAProxy (%s engine)', (engine) => {
  let server: TestServer;
  let dir: string;
  let nginx: ChildProcess;
  let haproxy: ChildProcess;
  let nginxPort: number;
  let haproxyPort: number;
  let haproxySocket: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-proxies-'));
    server = await startTestServer({
      CERTFLEET_HTTP_ENGINE: engine,
      CERTFLEET_TRUSTED_PROXIES: '127.0.0.2',
      CERTFLEET_ACME_RATE_LIMIT_NEW_ACCOUNTS_PER_IP_PER_HOUR: '1',
    });
    const upstream = new URL(server.url).port;

    nginxPort = await freePort();
    const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
    const nginxConf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(
      nginxConf,
      `daemon off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'nginx-error.log')};
worker_processes 1;
events { worker_connections 256; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  upstream certfleet { server 127.0.0.1:${upstream}; keepalive 16; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://certfleet;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_bind 127.0.0.2;
    }
  }
}
`,
    );
    nginx = await startDaemon([nginxBin!, '-c', nginxConf, '-e', path.join(dir, 'nginx-error.log')], nginxPort, 'nginx');

    haproxyPort = await freePort();
    haproxySocket = path.join(dir, 'haproxy.sock');
    const haproxyConf = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      haproxyConf,
      `global
  stats socket ${haproxySocket} mode 600 level admin
defaults
  mode http
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend api
  bind 127.0.0.1:${haproxyPort}
  default_backend certfleet
backend certfleet
  option forwardfor
  option httpchk
  http-check send meth GET uri /health ver HTTP/1.1 hdr Host certfleet
  http-check expect status 200
  server replica1 127.0.0.1:${upstream} source 127.0.0.2 check inter 200ms fall 2 rise 1
`,
    );
    execFileSync('/usr/sbin/haproxy', ['-c', '-q', '-f', haproxyConf]);
    haproxy = await startDaemon(['/usr/sbin/haproxy', '-W', '-db', '-f', haproxyConf], haproxyPort, 'haproxy');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([nginx && stopChild(nginx, 'SIGQUIT'), haproxy && stopChild(haproxy, 'SIGTERM')]);
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers through nginx over HTTP/1.1, its ACME URLs naming the proxy', async () => {
    expect((await request(nginxPort, '127.0.0.3', 'GET', '/health')).status).toBe(200);
    const directory = await request(nginxPort, '127.0.0.3', 'GET', '/acme/directory');
    expect(directory.status).toBe(200);
    expect((JSON.parse(directory.text) as { newAccount: string }).newAccount).toBe(`http://127.0.0.1:${nginxPort}/acme/new-account`);
  });

  it("passes HAProxy's health check (HTTP/1.1 with a Host) and answers through it", async () => {
    const check = async () => {
      const stat = await haproxyCommand(haproxySocket, 'show stat');
      const header = stat.split('\n')[0]!.replace(/^# /, '').split(',');
      const row = stat
        .split('\n')
        .find((line) => line.startsWith('certfleet,replica1,'))!
        .split(',');
      return [row[header.indexOf('status')], row[header.indexOf('check_status')]];
    };
    // Until a check has completed (every 200 ms; a failing one marks the server down after two).
    const deadline = Date.now() + 10_000;
    let seen = await check();
    while (seen[1] !== 'L7OK' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await check();
    }
    expect(seen).toEqual(['UP', 'L7OK']);
    // Several more intervals: still up.
    await new Promise((r) => setTimeout(r, 600));
    expect(await check()).toEqual(['UP', 'L7OK']);
    expect((await request(haproxyPort, '127.0.0.4', 'GET', '/health')).status).toBe(200);
  });

  it('limits new accounts per client behind the trusted proxies, not per proxy, whatever X-Forwarded-For a client forges', async () => {
    // 127.0.0.3 through nginx: its first account, then refused though it claims another address.
    expect(await newAccount(nginxPort, '127.0.0.3', '198.51.100.1')).toBe(201);
    expect(await newAccount(nginxPort, '127.0.0.3', '198.51.100.2')).toBe(429);
    // 127.0.0.4 through HAProxy, which adds an X-Forwarded-For line of its own after the
    // client's: a client of its own, though its forged line names 127.0.0.3 (read alone, the
    // first line would put it in 127.0.0.3's spent allowance).
    expect(await newAccount(haproxyPort, '127.0.0.4', '127.0.0.3')).toBe(201);
    // Straight to certfleet, the header is not believed: 127.0.0.4 has had its account.
    expect(await newAccount(Number(new URL(server.url).port), '127.0.0.4', '198.51.100.4')).toBe(429);
    expect(await newAccount(Number(new URL(server.url).port), '127.0.0.5', '127.0.0.3')).toBe(201);
  });
});
