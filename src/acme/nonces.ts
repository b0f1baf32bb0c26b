/**
 * Replay nonces (RFC 8555 6.5) that any replica mints without a database round trip and any
 * replica redeems exactly once (no sticky load balancing: step-ca #1855).
 *
 * A nonce is 16 bytes of identity (a random per-process prefix, a counter, the second it was
 * minted) and a 16-byte tag under a key every replica shares (instance_secrets), base64url: 43
 * characters. The tag is the identity enciphered with AES-256: for a message of exactly one
 * block a block cipher is a MAC (a PRP is a PRF there), and one long-lived ECB cipher costs a
 * native call per tag where createHmac built a keyed context per nonce (1.9x the mints a second,
 * bench/acme/nonces.bench.ts). The AES key is derived from the shared secret with HKDF, so the
 * secret keys nothing else directly. Redeeming checks the tag and the age in memory, so a forged,
 * mangled or stale nonce costs no query; a genuine one is then spent with one INSERT of its
 * identity into a table keyed by it (a second INSERT of the same identity, on any replica, finds
 * it and is a replay). Spent rows are kept only until the nonce would have expired anyway, so
 * the table holds at most one TTL of traffic; the ACME GC deletes the rest.
 */
import { createCipheriv, hkdfSync, randomBytes, timingSafeEqual, type Cipher } from 'node:crypto';
import { AcmeProblems } from './problems.ts';

/** Where spent nonces are recorded; `spend` is true the first time an id is spent. */
export interface SpentNonces {
  spend(id: Buffer, expiresAt: Date): Promise<boolean>;
}

/** One AES block: the tag is exactly one block enciphered. */
const idBytes = 16;
const tagBytes = 16;
const encodedLength = Math.ceil(((idBytes + tagBytes) * 4) / 3);

export class NonceService {
  /** AES-256-ECB without padding: each 16-byte update is one block enciphered, with no state carried between blocks. */
  readonly #tagCipher: Cipher;
  readonly #ttlSeconds: number;
  readonly #spent: SpentNonces;
  readonly #prefix = randomBytes(4);
  /** Counter halves: a random start, so two processes that drew the same prefix still differ. */
  #high = randomBytes(4).readUInt32BE(0);
  #low = 0;

  constructor(options: { key: Buffer; ttlSeconds: number; spent: SpentNonces }) {
    if (options.key.length < 32) throw new Error('the nonce key must have at least 32 bytes');
    const tagKey = Buffer.from(hkdfSync('sha256', options.key, Buffer.alloc(0), 'certfleet acme nonce tag', 32));
    this.#tagCipher = createCipheriv('aes-256-ecb', tagKey, null).setAutoPadding(false);
    this.#ttlSeconds = options.ttlSeconds;
    this.#spent = options.spent;
  }

  mint(now = Date.now()): string {
    const buffer = Buffer.allocUnsafe(idBytes + tagBytes);
    this.#prefix.copy(buffer, 0);
    if (++this.#low > 0xffffffff) {
      this.#low = 0;
      this.#high = (this.#high + 1) >>> 0;
    }
    buffer.writeUInt32BE(this.#high, 4);
    buffer.writeUInt32BE(this.#low, 8);
    buffer.writeUInt32BE(Math.floor(now / 1000) >>> 0, 12);
    this.#tag(buffer.subarray(0, idBytes)).copy(buffer, idBytes);
    return buffer.toString('base64url');
  }

  /** Spends `nonce` or throws badNonce (unknown, forged, expired or already used). */
  async redeem(nonce: string | undefined, now = Date.now()): Promise<void> {
    if (nonce === undefined || nonce === '') throw AcmeProblems.badNonce('the JWS protected header has no nonce');
    if (nonce.length !== encodedLength || !/^[A-Za-z0-9_-]+$/.test(nonce)) throw AcmeProblems.badNonce('this nonce was not issued by this server');
    const buffer = Buffer.from(nonce, 'base64url');
    const id = buffer.subarray(0, idBytes);
    if (!timingSafeEqual(this.#tag(id), buffer.subarray(idBytes))) throw AcmeProblems.badNonce('this nonce was not issued by this server');
    const mintedAt = id.readUInt32BE(12) * 1000;
    const expiresAt = mintedAt + this.#ttlSeconds * 1000;
    if (now >= expiresAt) throw AcmeProblems.badNonce('this nonce has expired; use the fresh one in Replay-Nonce');
    if (!(await this.#spent.spend(Buffer.from(id), new Date(expiresAt))))
      throw AcmeProblems.badNonce('this nonce was already used; use the fresh one in Replay-Nonce');
  }

  #tag(id: Buffer): Buffer {
    return this.#tagCipher.update(id);
  }
}
