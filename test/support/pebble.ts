/**
 * Let's Encrypt's pebble (Debian's package; scripts/install-test-deps.sh installs it): a real
 * ACME CA on loopback that really validates HTTP-01 challenges. Its DNS is
 * pebble-challtestsrv answering every name with 127.0.0.1, and its HTTP-01 port is the one the
 * certfleet under test listens on, so pebble fetches /.well-known/acme-challenge/{token} from
 * certfleet itself. Its HTTPS listener uses a certificate from a throwaway CA made here
 * (`tlsCaPem`, what an issuer's ca_bundle_pem trusts). Random nonce rejection stays on (5%), as
 * pebble ships: clients must retry badNonce.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startChallTestSrv, stopChild, until } from './challtestsrv.ts';
import { freePort } from './free-port.ts';
import { makeTlsCertificate } from './tls-certificate.ts';

export const pebbleBin = ['/usr/bin/pebble'].find((p) => fs.existsSync(p));

export interface TestPebble {
  directoryUrl: string;
  /** The CA of pebble's own HTTPS certificate. */
  tlsCaPem: string;
  /** Pebble's issuing root (made anew at every start), to verify issued chains against. */
  rootPem(): Promise<string>;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, timeout: 2_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** `httpPort`: where pebble sends HTTP-01 validation requests (the certfleet under test). */
export async function startPebble(dir: string, httpPort: number): Promise<TestPebble> {
  if (!pebbleBin) throw new Error('pebble is not installed: run scripts/install-test-deps.sh (Debian package pebble)');
  fs.mkdirSync(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  const tls = makeTlsCertificate(dir, 'pebble test TLS CA');
  const tlsCaPem = tls.caPem;

  const [acmePort, managementPort] = [await freePort(), await freePort()];
  const dns = await startChallTestSrv({ responders: false });
  const dnsPort = dns.dnsPort;

  fs.writeFileSync(
    file('pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: tls.certPath,
        privateKey: tls.keyPath,
        httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const output: string[] = [];
  const pebble = spawn(pebbleBin, ['-config', file('pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [pebble.stdout!, pebble.stderr!]) stream.on('data', (c: Buffer) => output.push(c.toString()));
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  await until('pebble', async () => (await get(directoryUrl, tlsCaPem)).status === 200, pebble).catch((err: Error) => {
    throw new Error(`${err.message}\n${output.join('')}`);
  });

  return {
    directoryUrl,
    tlsCaPem,
    rootPem: async () => (await get(`https://127.0.0.1:${managementPort}/roots/0`, tlsCaPem)).body,
    stop: async () => {
      await Promise.all([stopChild(pebble), dns.stop()]);
    },
  };
}
