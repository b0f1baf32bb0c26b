/**
 * The agent's first contact with its server: an unreachable server is retried with backoff and
 * one readable line per attempt (not an exit), --once fails at once with the cause, and a
 * server whose certificate a private CA signed is reached with --ca-file (and refused, with the
 * fix named, without it).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCertfleet } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const bootstrap = 'bootstrap-token-0123456789abcdef';
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-agent-connect-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function agent(name: string, server: string, extra: string[] = []) {
  return runCertfleet(['agent', '--server', server, '--name', name, '--state-file', path.join(dir, name, 'state.json'), ...extra], {
    CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap,
    CERTFLEET_DATA_DIR: path.join(dir, name),
  });
}

describe('agent first contact', () => {
  it('--once: an unreachable server fails at once, naming the cause', async () => {
    const port = await closedPort();
    const proc = agent('once', `http://127.0.0.1:${port}`, ['--once']);
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(`registration with http://127.0.0.1:${port} failed: connection refused (127.0.0.1:${port})`);
  });

  it('without --once: retries with backoff, one line per attempt, and stops cleanly on SIGTERM', async () => {
    const port = await closedPort();
    const proc = agent('retry', `http://127.0.0.1:${port}`);
    const line = (await new Promise<string>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no retry line: ${proc.stderr()}`)), 10_000);
      const check = setInterval(() => {
        const found = proc
          .stderr()
          .split('\n')
          .find((l) => l.includes('registration failed; retrying'));
        if (found) {
          clearInterval(check);
          clearTimeout(deadline);
          resolve(found);
        }
      }, 50);
    })) as string;
    expect(JSON.parse(line)).toMatchObject({ cause: `connection refused (127.0.0.1:${port}): is the server running and listening there?`, retry_in_s: 1 });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  describe('a server with a private CA', () => {
    let server: TestServer;
    let caPath: string;

    beforeAll(async () => {
      caPath = path.join(dir, 'ca.pem');
      const keyPath = path.join(dir, 'key.pem');
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
          '/CN=certfleet test',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-keyout',
          keyPath,
          '-out',
          caPath,
        ],
        { stdio: 'ignore' },
      );
      server = await startTestServer({ CERTFLEET_TLS_CERT_PATH: caPath, CERTFLEET_TLS_KEY_PATH: keyPath, CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap });
    });
    afterAll(() => server.close());

    it('refuses it untrusted, naming --ca-file, and registers with --ca-file', async () => {
      expect(server.url).toMatch(/^https:/);
      const untrusted = agent('tls-untrusted', server.url, ['--once']);
      expect(await untrusted.exited).toBe(1);
      expect(untrusted.stderr()).toMatch(/TLS: DEPTH_ZERO_SELF_SIGNED_CERT: the server's certificate is not trusted here \(a private CA: --ca-file/);

      const trusted = agent('tls-trusted', server.url, ['--once', '--ca-file', caPath]);
      expect(await trusted.exited, trusted.stderr()).toBe(0);
      expect(fs.existsSync(path.join(dir, 'tls-trusted', 'state.json'))).toBe(true);
    });

    it('refuses a CA file it cannot use as bad usage (exit 2)', async () => {
      const missing = agent('tls-missing', server.url, ['--once', '--ca-file', path.join(dir, 'nope.pem')]);
      expect(await missing.exited).toBe(2);
      expect(missing.stderr()).toMatch(/cannot read the CA file/);
    });
  });
});
