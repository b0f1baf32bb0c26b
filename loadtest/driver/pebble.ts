/**
 * Pebble, Let's Encrypt's test ACME CA (Debian's package), as a load target: `--target pebble`
 * runs a flow scenario, or one of the entry-point scenarios (`pebble: true`: acme_directory,
 * acme_new_nonce), against it and against certfleet side by side (compare.ts). Pebble
 * keeps everything in memory and, as the issue asks, never really validates
 * (PEBBLE_VA_ALWAYS_VALID), never sleeps in its VA (PEBBLE_VA_NOSLEEP) and never rejects a good
 * nonce (PEBBLE_WFE_NONCEREJECT=0); its other settings are its defaults (authorization reuse
 * 50%). It serves HTTPS only: both sides get the same loopback certificate (loopbackTls), which
 * the driver trusts through NODE_EXTRA_CA_CERTS.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/db/embedded-postgres.ts';
import { sideBySide } from './compare.ts';
import type { Target } from './target.ts';
import { answers, stopChild, untilServing } from './child-process.ts';

const root = path.resolve(import.meta.dirname, '../..');

export const pebbleBinary = '/usr/bin/pebble';

export interface LoopbackTls {
  certPath: string;
  keyPath: string;
}

/** A self-signed P-256 certificate for 127.0.0.1 and localhost, made with openssl in `dir`. */
export function loopbackTls(dir: string): LoopbackTls {
  const certPath = path.join(dir, 'loopback-cert.pem');
  const keyPath = path.join(dir, 'loopback-key.pem');
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
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath };
}

/** Starts Pebble on free loopback ports with `tls` as its HTTPS certificate. */
export async function startPebble(dir: string, tls: LoopbackTls): Promise<Target> {
  if (!fs.existsSync(pebbleBinary)) throw new Error(`${pebbleBinary} is missing: apt-get install pebble (scripts/install-test-deps.sh installs it)`);
  const [port, managementPort] = [await findFreePort(), await findFreePort()];
  const config = path.join(dir, 'pebble-config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${port}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: tls.certPath,
        privateKey: tls.keyPath,
        // Never used: the VA answers valid without connecting.
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const child = spawn(pebbleBinary, ['-config', config], {
    env: { PATH: process.env.PATH ?? '', PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its log (a line per request) is kept until it serves, for the error that says why it did
  // not; then drained, never parsed (a full pipe would stall it).
  let log = '';
  const keep = (chunk: string) => (log = (log + chunk).slice(-4000));
  for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', keep);
  const url = `https://127.0.0.1:${port}`;
  // Its certificate untrusted, every probe fails: the hint says where to look.
  await untilServing(child, {
    what: 'pebble',
    probe: answers(`${url}/dir`),
    timeoutMs: 20_000,
    detail: () => `(is NODE_EXTRA_CA_CERTS its certificate?) ${log}`,
  });
  for (const stream of [child.stdout!, child.stderr!]) stream.removeListener('data', keep).resume();
  return {
    url,
    urls: [url],
    adminKey: '',
    acmeDirectory: '/dir',
    acmeNewNonce: '/nonce-plz',
    stop: () => stopChild(child),
  };
}

/**
 * `--target pebble`: the scenario against Pebble and against certfleet, alternating for `rounds`
 * rounds, both over HTTPS with the same loopback certificate, then both figures and the ratio
 * certfleet / Pebble (compare.ts). Exits 1 when a run on either side failed its expectations.
 */
export async function versusPebble(o: { scenario: string; rounds: number; args: string[] }): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certfleet-versus-pebble-'));
  try {
    const tls = loopbackTls(dir);
    const args = [o.scenario, ...o.args, '--tls-cert', tls.certPath, '--tls-key', tls.keyPath];
    const env = { NODE_EXTRA_CA_CERTS: tls.certPath };
    const results = await sideBySide(o.scenario, o.rounds, [
      { label: 'pebble', cwd: root, args: [...args, '--target', 'pebble-only'], env },
      { label: 'certfleet', cwd: root, args, env },
    ]);
    return Object.values(results).every((runs) => runs.every((r) => r.ok)) ? 0 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
