/**
 * The CA behind each local issuer. Created on first use (ECDSA P-256 by default, or the
 * issuer's config.ca_key_algorithm; a 10-year root) and
 * persisted encrypted, so every restart and every replica signs with the same key; or, with
 * CERTFLEET_CA_CERT_PATH/KEY_PATH, one configured CA (e.g. a sub-CA of an enterprise root) for
 * every local issuer. Loaded CAs are cached per issuer.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { CaKeyRepository } from '../../db/ca-keys.ts';
import { caTemplate, issueCaCertificate, randomSerial, toPem, type CaTemplate } from '../../pki/certificate.ts';
import { ConfigError } from '../../config/errors.ts';
import { decryptSecret, encryptSecret } from '../../pki/key-encryption.ts';
import { unpooled } from '../../workers/unpooled.ts';

/** Everything needed to sign for one issuer; `keyPkcs8` goes to worker threads. */
export interface LocalCa {
  issuerId: string;
  certificateDer: Buffer;
  certificatePem: string;
  keyPkcs8: Buffer;
  crlUrl: string;
  template: CaTemplate;
}

export interface LocalCaOptions {
  repo: CaKeyRepository;
  encryptionKey: Buffer;
  /** e.g. http://127.0.0.1:8080 */
  publicUrl: string;
  caFiles?: { certPath: string; keyPath: string } | undefined;
  now?: () => number;
}

const caValidityMs = 10 * 365 * 86_400_000;

/** How a generated CA is made: from a local issuer's config. */
export interface CaSpec {
  commonName: string;
  keyAlgorithm: CaKeyAlgorithm;
}
export type CaKeyAlgorithm = 'ECDSA-P256' | 'ECDSA-P384' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';

/** A local issuer's CA spec: config.ca_common_name (default "certfleet <id> CA") and ca_key_algorithm (default ECDSA-P256). */
export function caSpec(issuerId: string, config: { ca_common_name?: string | undefined; ca_key_algorithm?: CaKeyAlgorithm | undefined }): CaSpec {
  return { commonName: config.ca_common_name ?? `certfleet ${issuerId} CA`, keyAlgorithm: config.ca_key_algorithm ?? 'ECDSA-P256' };
}

function generateCaKey(algorithm: CaKeyAlgorithm) {
  switch (algorithm) {
    case 'ECDSA-P256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ECDSA-P384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    default:
      return generateKeyPairSync('rsa', { modulusLength: Number(algorithm.slice(4)) });
  }
}

export class LocalCaRegistry {
  readonly #o: LocalCaOptions;
  readonly #cache = new Map<string, Promise<LocalCa>>();
  readonly #configured: { certDer: Buffer; key: KeyObject } | undefined;

  constructor(options: LocalCaOptions) {
    this.#o = options;
    if (options.caFiles) {
      const cert = new X509Certificate(fs.readFileSync(options.caFiles.certPath));
      const key = createPrivateKey(fs.readFileSync(options.caFiles.keyPath));
      if (!cert.ca) throw new Error(`CERTFLEET_CA_CERT_PATH: ${options.caFiles.certPath} is not a CA certificate`);
      if (!cert.checkPrivateKey(key)) throw new Error('CERTFLEET_CA_KEY_PATH: the key does not belong to CERTFLEET_CA_CERT_PATH');
      this.#configured = { certDer: cert.raw, key };
    }
  }

  get(issuerId: string, spec: CaSpec): Promise<LocalCa> {
    let ca = this.#cache.get(issuerId);
    if (!ca) {
      ca = this.#load(issuerId, spec);
      ca.catch(() => this.#cache.delete(issuerId)); // a failure is retried next time
      this.#cache.set(issuerId, ca);
    }
    return ca;
  }

  /**
   * Fails when the encryption key cannot open the CA keys already stored: a replica started
   * without the shared CERTFLEET_ENCRYPTION_KEY generates its own, and would otherwise fail
   * only later, at its first issuance, with a message far from the cause.
   */
  async checkEncryptionKey(): Promise<void> {
    if (this.#configured) return;
    const row = await this.#o.repo.any();
    if (!row) return;
    try {
      decryptSecret(row.private_key_encrypted, this.#o.encryptionKey, `ca-key:${row.issuer_id}`);
    } catch {
      throw new ConfigError([
        `CERTFLEET_ENCRYPTION_KEY: this key cannot decrypt the CA keys stored in the database (issuer ${row.issuer_id}); ` +
          'every replica must use the key they were stored with (unset, each server generates its own into <CERTFLEET_DATA_DIR>/encryption.key)',
      ]);
    }
  }

  async #load(issuerId: string, spec: CaSpec): Promise<LocalCa> {
    const crlUrl = `${this.#o.publicUrl}/.well-known/pki/crl/${encodeURIComponent(issuerId)}`;
    if (this.#configured) return this.#material(issuerId, this.#configured.certDer, this.#configured.key, crlUrl);
    const associated = `ca-key:${issuerId}`;
    let row = await this.#o.repo.get(issuerId);
    if (!row) {
      const { privateKey, publicKey } = generateCaKey(spec.keyAlgorithm);
      const now = this.#o.now?.() ?? Date.now();
      const certificateDer = issueCaCertificate({
        key: privateKey,
        spki: publicKey.export({ format: 'der', type: 'spki' }),
        commonName: spec.commonName,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + caValidityMs),
        serial: randomSerial(),
      });
      row = await this.#o.repo.insertOrGet({
        issuer_id: issuerId,
        certificate_der: certificateDer,
        private_key_encrypted: encryptSecret(privateKey.export({ format: 'der', type: 'pkcs8' }), this.#o.encryptionKey, associated),
        key_algorithm: spec.keyAlgorithm,
      });
    }
    let pkcs8: Buffer;
    try {
      pkcs8 = decryptSecret(row.private_key_encrypted, this.#o.encryptionKey, associated);
    } catch {
      throw new Error(`cannot decrypt the CA key of issuer ${issuerId}: CERTFLEET_ENCRYPTION_KEY differs from the key it was stored with`);
    }
    return this.#material(issuerId, row.certificate_der, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), crlUrl);
  }

  #material(issuerId: string, der: Buffer, key: KeyObject, crlUrl: string): LocalCa {
    createPublicKey(key); // fails early on a key node cannot use
    const certificateDer = unpooled(der); // posted with every signing task
    return {
      issuerId,
      certificateDer,
      certificatePem: toPem(certificateDer),
      keyPkcs8: key.export({ format: 'der', type: 'pkcs8' }),
      crlUrl,
      template: caTemplate({ key, certificateDer, crlUrl }),
    };
  }
}
