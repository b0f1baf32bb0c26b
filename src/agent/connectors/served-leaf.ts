/**
 * The post-deploy check: what leaf does the daemon hand a new TLS connection? A reload is
 * asynchronous (nginx and Apache start new workers while the old ones finish), so the check
 * retries every 100 ms until the served leaf is the deployed one or the deadline passes.
 * Certificate verification is off on purpose: the question is which certificate is served,
 * not whether this host trusts it.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';

export interface ServedLeafCheck {
  host: string;
  port: number;
  /** SNI; omitted for an IP address (RFC 6066 allows host names only). */
  serverName: string | undefined;
  /** The deployed leaf, DER. */
  expectedLeaf: Buffer;
  /** Its serial, lowercase hex without padding (certfleet's spelling), for messages. */
  expectedSerial: string;
  /** 0: a single attempt. */
  timeoutMs: number;
}

export interface ServedLeaf {
  address: string;
  server_name: string | null;
  /** The served leaf's serial (lowercase hex); null when no handshake succeeded. */
  serial: string | null;
  matches: boolean;
  attempts: number;
  error?: string;
}

/** certfleet spells serials in lowercase hex without leading zeros. */
export const normalSerial = (hex: string) => hex.toLowerCase().replace(/^0+(?=.)/, '');

function handshake(check: ServedLeafCheck): Promise<{ der: Buffer; serial: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: check.host,
      port: check.port,
      ...(check.serverName && !isIP(check.serverName) ? { servername: check.serverName } : {}),
      rejectUnauthorized: false,
      timeout: 3_000,
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      socket.destroy();
      if (!peer?.raw) return reject(new Error('the server presented no certificate'));
      resolve({ der: peer.raw, serial: normalSerial(peer.serialNumber) });
    });
    socket.once('timeout', () => socket.destroy(new Error('TLS handshake timed out after 3 s')));
    socket.once('error', reject);
  });
}

export async function waitForServedLeaf(check: ServedLeafCheck): Promise<ServedLeaf> {
  const address = `${check.host.includes(':') ? `[${check.host}]` : check.host}:${check.port}`;
  const result: ServedLeaf = { address, server_name: check.serverName ?? null, serial: null, matches: false, attempts: 0 };
  const deadline = Date.now() + check.timeoutMs;
  for (;;) {
    result.attempts++;
    try {
      const served = await handshake(check);
      result.serial = served.serial;
      delete result.error;
      if (served.der.equals(check.expectedLeaf)) return { ...result, matches: true };
    } catch (err) {
      result.error = (err as Error).message.slice(0, 500);
    }
    if (Date.now() >= deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
