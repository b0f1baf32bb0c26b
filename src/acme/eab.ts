/**
 * External Account Binding (RFC 8555 7.3.4): an admin creates a key over the REST API (the HMAC
 * key is shown once and stored encrypted); a client proves it holds it when it creates its ACME
 * account, and the key then belongs to that account for good.
 */
import { createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { AcmeServerRepository } from '../db/acme-server.ts';
import type { AcmeEabKeyRow } from '../domain/acme.ts';
import { Errors } from '../errors.ts';
import { decryptSecret, encryptSecret } from '../pki/key-encryption.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import type { Principal } from '../services/auth/permissions.ts';
import { importJwk, jwkThumbprint, parseJsonObject } from './jws.ts';
import { AcmeProblems } from './problems.ts';

const hmacAlgorithms: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const base64url = /^[A-Za-z0-9_-]*$/;

function associatedData(id: string): string {
  return `acme-eab-key:${id}`;
}

export class AcmeEabKeys {
  readonly #repo: AcmeServerRepository;
  readonly #audit: AuditWriter;
  readonly #encryptionKey: Buffer;

  constructor(options: { repo: AcmeServerRepository; audit: AuditWriter; encryptionKey: Buffer }) {
    this.#repo = options.repo;
    this.#audit = options.audit;
    this.#encryptionKey = options.encryptionKey;
  }

  /** A new key; `hmacKey` (base64url, 256 bits) is returned here and never again. */
  async create(principal: Principal | undefined, name: string): Promise<{ key: AcmeEabKeyRow; hmacKey: string }> {
    const id = `eab-${randomBytes(12).toString('base64url')}`;
    const secret = newHmacSecret();
    const key = await this.#audit.atomically(async () => {
      const created = await this.#repo.createEabKey({
        id,
        name,
        hmacKeySealed: encryptSecret(secret, this.#encryptionKey, associatedData(id)),
        createdBy: principal?.keyId ?? 'system',
      });
      await this.#audit.record(principal, {
        action: 'acme_eab_key_created',
        resourceType: 'acme_eab_key',
        resourceId: id,
        category: 'auth',
        details: { name },
      });
      return created;
    });
    return { key, hmacKey: secret.toString('base64url') };
  }

  list(includeRevoked: boolean): Promise<AcmeEabKeyRow[]> {
    return this.#repo.listEabKeys(includeRevoked);
  }

  async get(id: string): Promise<AcmeEabKeyRow> {
    const key = await this.#repo.getEabKey(id);
    if (!key) throw Errors.notFound(`EAB key ${id} not found`);
    const { hmac_key_sealed: _sealed, ...listed } = key;
    return listed;
  }

  /** Revokes a key (idempotent): it can bind no new account; an account it bound stays. */
  revoke(principal: Principal | undefined, id: string): Promise<AcmeEabKeyRow> {
    return this.#audit.atomically(async () => {
      const key = await this.#repo.revokeEabKey(id);
      if (!key) throw Errors.notFound(`EAB key ${id} not found`);
      await this.#audit.record(principal, { action: 'acme_eab_key_revoked', resourceType: 'acme_eab_key', resourceId: id, category: 'auth', details: {} });
      return key;
    });
  }

  /**
   * Checks new-account's `externalAccountBinding`: a flattened JWS, HS256/384/512, whose kid is a
   * live unbound key, whose url is the new-account URL, whose payload is the account's own key,
   * and whose MAC verifies. Returns the key id to bind.
   */
  async verifyBinding(binding: unknown, accountKey: KeyObject, url: string): Promise<string> {
    if (typeof binding !== 'object' || binding === null || Array.isArray(binding))
      throw AcmeProblems.malformed('externalAccountBinding must be a flattened JWS object');
    const jws = binding as Record<string, unknown>;
    for (const part of ['protected', 'payload', 'signature'] as const) {
      if (typeof jws[part] !== 'string' || !base64url.test(jws[part])) throw AcmeProblems.malformed(`externalAccountBinding.${part} must be base64url`);
    }
    const decoded = (part: 'protected' | 'payload') =>
      parseJsonObject(Buffer.from(jws[part] as string, 'base64url').toString('utf8'), `externalAccountBinding ${part}`);
    const header = decoded('protected');
    const payloadKey = importJwk(decoded('payload'));
    const hash = typeof header.alg === 'string' ? hmacAlgorithms[header.alg] : undefined;
    if (!hash) throw AcmeProblems.malformed('externalAccountBinding must use HS256, HS384 or HS512');
    if ('nonce' in header) throw AcmeProblems.malformed('externalAccountBinding must not carry a nonce');
    if (header.url !== url) throw AcmeProblems.unauthorized('externalAccountBinding url is not the new-account URL');
    if (jwkThumbprint(payloadKey) !== jwkThumbprint(accountKey))
      throw AcmeProblems.unauthorized('externalAccountBinding binds another key than the account key');
    const id = typeof header.kid === 'string' ? header.kid : '';
    const key = id ? await this.#repo.getEabKey(id) : undefined;
    if (!key || key.revoked_at) throw AcmeProblems.unauthorized('the external account key is unknown or revoked');
    if (key.account_id) throw AcmeProblems.unauthorized('the external account key is already bound to an account');
    const secret = decryptSecret(key.hmac_key_sealed, this.#encryptionKey, associatedData(key.id));
    const expected = createHmac(hash, secret)
      .update(`${jws.protected as string}.${jws.payload as string}`)
      .digest();
    const given = Buffer.from(jws.signature as string, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw AcmeProblems.unauthorized('externalAccountBinding MAC does not verify');
    return key.id;
  }

  /** Binds `keyId` to the account inside the account's creation (its unit of work). */
  async bind(keyId: string, accountId: string): Promise<void> {
    if (!(await this.#repo.bindEabKey(keyId, accountId))) throw AcmeProblems.unauthorized('the external account key was bound or revoked meanwhile');
  }
}

/**
 * 256 random bits for an EAB key whose base64url text does not start with "-". Clients take the
 * key on their command line (certbot --eab-hmac-key K, lego --hmac K), where a value starting
 * with "-" reads as an option ("expected one argument") unless written --eab-hmac-key=K. One
 * draw in 64 is redrawn: 0.02 bits of 256 given up.
 */
export function newHmacSecret(random: (size: number) => Buffer = randomBytes): Buffer {
  for (;;) {
    const secret = random(32);
    if (secret[0]! >> 2 !== 62) return secret; // 62: "-" in base64url
  }
}
