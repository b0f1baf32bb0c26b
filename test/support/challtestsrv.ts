/**
 * pebble-challtestsrv (Debian's pebble package): a DNS server answering every name with
 * 127.0.0.1 (or the records set here), and HTTP-01 / TLS-ALPN-01 responders serving what a test
 * asks it to. Pebble uses its DNS; the ACME server tests use all three as the "internet" their
 * validations reach, on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './free-port.ts';

export interface ChallTestSrv {
  dnsPort: number;
  /** Its management API (POST /set-txt, /add-http01, ...), for clients that set records themselves. */
  managementUrl: string;
  /** 0 when started without the HTTP-01 responder. */
  http01Port: number;
  tlsAlpn01Port: number;
  addHttp01(token: string, content: string): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  addTlsAlpn01(host: string, content: string): Promise<void>;
  stop(): Promise<void>;
}

export async function until(what: string, ready: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start within 10 s`);
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => (socket.destroy(), resolve(true))).on('error', () => resolve(false));
  });

/** `responders`: also serve HTTP-01 and TLS-ALPN-01 answers (on free ports). */
export async function startChallTestSrv(options: { responders: boolean }): Promise<ChallTestSrv> {
  const [dnsPort, managementPort] = [await freePort(), await freePort()];
  const http01Port = options.responders ? await freePort() : 0;
  const tlsAlpn01Port = options.responders ? await freePort() : 0;
  const child = spawn(
    '/usr/bin/pebble-challtestsrv',
    [
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-http01',
      http01Port ? `127.0.0.1:${http01Port}` : '',
      '-https01',
      '',
      '-tlsalpn01',
      tlsAlpn01Port ? `127.0.0.1:${tlsAlpn01Port}` : '',
      '-management',
      `127.0.0.1:${managementPort}`,
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.resume();
  await until('pebble-challtestsrv', () => listening(managementPort), child);
  const manage = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${path}: ${res.status} ${await res.text()}`);
  };
  return {
    dnsPort,
    managementUrl: `http://127.0.0.1:${managementPort}`,
    http01Port,
    tlsAlpn01Port,
    addHttp01: (token, content) => manage('/add-http01', { token, content }),
    setTxt: (host, value) => manage('/set-txt', { host: host.endsWith('.') ? host : `${host}.`, value }),
    addTlsAlpn01: (host, content) => manage('/add-tlsalpn01', { host, content }),
    stop: () => stopChild(child),
  };
}
