/**
 * `--acme-mode challenge`: the "internet" certfleet's validations reach during acme_flow, on
 * loopback. The driver serves every http-01 answer itself (RFC 8555 8.3: GET
 * /.well-known/acme-challenge/<token> answers the key authorization) from a node:http server in
 * its own process, and Debian's pebble-challtestsrv answers every DNS name with 127.0.0.1 (its
 * DNS only: its own responders are off). The server is told where to look with its own settings
 * (CERTFLEET_ACME_HTTP01_PORT, CERTFLEET_ACME_DNS_RESOLVER, CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { findFreePort } from '../../src/db/embedded-postgres.ts';
import { stopChild, untilServing } from './child-process.ts';

const challtestsrvBinary = '/usr/bin/pebble-challtestsrv';
/** Answers held at most (oldest dropped first): a validation follows its answer within seconds. */
const maxAnswers = 100_000;

export interface ChallengeResponder {
  /** What `certfleet serve` needs to validate against this responder. */
  serverEnv: Record<string, string>;
  /** Serves `keyAuthorization` for `token` from now on. */
  provide(token: string, keyAuthorization: string): void;
  /** Answers served (200) and asked for but unknown (404), for the report. */
  served(): { answered: number; unknown: number };
  stop(): Promise<void>;
}

export async function startChallengeResponder(): Promise<ChallengeResponder> {
  if (!fs.existsSync(challtestsrvBinary)) {
    throw new Error(`${challtestsrvBinary} is missing: apt-get install pebble (scripts/install-test-deps.sh installs it)`);
  }
  const answers = new Map<string, string>();
  const counts = { answered: 0, unknown: 0 };
  const prefix = '/.well-known/acme-challenge/';
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const answer = req.method === 'GET' && req.url?.startsWith(prefix) ? answers.get(req.url.slice(prefix.length)) : undefined;
    if (answer === undefined) {
      counts.unknown++;
      res.writeHead(404).end();
      return;
    }
    counts.answered++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(answer) }).end(answer);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const http01Port = (server.address() as net.AddressInfo).port;

  const [dnsPort, managementPort] = [await findFreePort(), await findFreePort()];
  const dns = spawn(
    challtestsrvBinary,
    [
      ...['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', ''],
      ...['-management', `127.0.0.1:${managementPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // However the driver ends (a failed start, process.exit), pebble-challtestsrv ends with it.
  const killOnExit = () => dns.kill('SIGKILL');
  process.once('exit', killOnExit);
  let log = '';
  dns.stderr!.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-2000)));
  try {
    await untilServing(dns, { what: 'pebble-challtestsrv', probe: () => accepts(managementPort), timeoutMs: 10_000, detail: () => log });
  } catch (err) {
    server.close();
    throw err;
  }

  return {
    serverEnv: {
      CERTFLEET_ACME_HTTP01_PORT: String(http01Port),
      CERTFLEET_ACME_DNS_RESOLVER: `127.0.0.1:${dnsPort}`,
      CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: 'true',
    },
    provide(token, keyAuthorization) {
      if (answers.size >= maxAnswers) answers.delete(answers.keys().next().value!);
      answers.set(token, keyAuthorization);
    },
    served: () => ({ ...counts }),
    async stop() {
      process.removeListener('exit', killOnExit);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await stopChild(dns);
    },
  };
}

/** Whether something accepts connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => (socket.destroy(), resolve(true))).on('error', () => resolve(false));
  });
}
