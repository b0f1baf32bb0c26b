/**
 * The post-deploy check: what leaf does the daemon hand a new TLS connection? A reload is
 * asynchronous (nginx and Apache start new workers while the old ones finish), so the check
 * retries every 100 ms until the served leaf is the deployed one, several times in a row, or the
 * deadline passes.
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

/**
 * Served means served to every new connection: for a moment after a reload nginx's new and old
 * workers both accept, so one matching handshake is not enough. The leaf must match
 * `confirmations` handshakes in a row, 100 ms apart.
 */
export const confirmations = 3;

export async function waitForServedLeaf(check: ServedLeafCheck): Promise<ServedLeaf> {
  const address = `${check.host.includes(':') ? `[${check.host}]` : check.host}:${check.port}`;
  const result: ServedLeaf = { address, server_name: check.serverName ?? null, serial: null, matches: false, attempts: 0 };
  const deadline = Date.now() + check.timeoutMs;
  let inARow = 0;
  for (;;) {
    result.attempts++;
    try {
      const served = await handshake(check);
      result.serial = served.serial;
      delete result.error;
      inARow = served.der.equals(check.expectedLeaf) ? inARow + 1 : 0;
      if (inARow === confirmations) return { ...result, matches: true };
    } catch (err) {
      inARow = 0;
      result.error = (err as Error).message.slice(0, 500);
    }
    // A streak in progress may finish past the deadline: it needs only its remaining confirmations.
    if (Date.now() >= deadline && inARow === 0) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
