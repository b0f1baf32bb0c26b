/**
 * The ACME server's parts, wired once (app.ts) and handed to its routes
 * (src/http/routes/acme/routes.ts): URLs, nonces, request verification, accounts, and the
 * directory's meta fields.
 */
import type { AcmeServerRepository } from '../db/acme-server.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import { AcmeAccounts } from './accounts.ts';
import { AcmeEabKeys } from './eab.ts';
import { AcmeRateLimits, type AcmeRateLimitSettings } from './rate-limits.ts';
import { NonceService } from './nonces.ts';
import { AcmeRequestVerifier, type RemoteVerify } from './requests.ts';
import { AcmeUrls } from './urls.ts';

export interface AcmeDirectoryMeta {
  termsOfService?: string | undefined;
  website?: string | undefined;
  caaIdentities?: string[] | undefined;
}

export interface AcmeServerOptions {
  repo: AcmeServerRepository;
  audit: AuditWriter;
  /** Shared by every replica (instance_secrets): nonces minted anywhere verify everywhere. */
  nonceKey: Buffer;
  nonceTtlSeconds: number;
  publicUrl: string | undefined;
  scheme: 'http' | 'https';
  meta: AcmeDirectoryMeta;
  /** Seals EAB HMAC keys at rest (CERTFLEET_ENCRYPTION_KEY). */
  encryptionKey: Buffer;
  /** New accounts must carry an external account binding. */
  eabRequired: boolean;
  rateLimits: AcmeRateLimitSettings;
  /** Slow signature algorithms are verified here (the worker pool) when given. */
  remoteVerify?: RemoteVerify;
}

export class AcmeServer {
  readonly urls: AcmeUrls;
  readonly nonces: NonceService;
  readonly verifier: AcmeRequestVerifier;
  readonly accounts: AcmeAccounts;
  readonly eabKeys: AcmeEabKeys;
  readonly #eabRequired: boolean;
  readonly #meta: AcmeDirectoryMeta;
  readonly #repo: AcmeServerRepository;

  constructor(options: AcmeServerOptions) {
    this.#repo = options.repo;
    this.urls = new AcmeUrls({ publicUrl: options.publicUrl, scheme: options.scheme });
    this.nonces = new NonceService({
      key: options.nonceKey,
      ttlSeconds: options.nonceTtlSeconds,
      spent: { spend: (id, at) => options.repo.spendNonce(id, at) },
    });
    this.verifier = new AcmeRequestVerifier({
      nonces: this.nonces,
      accounts: options.repo,
      accountUrl: (origin, id) => this.urls.account(origin, id),
      ...(options.remoteVerify ? { remoteVerify: options.remoteVerify } : {}),
    });
    this.eabKeys = new AcmeEabKeys({ repo: options.repo, audit: options.audit, encryptionKey: options.encryptionKey });
    const limits = new AcmeRateLimits({ repo: options.repo, settings: options.rateLimits });
    this.accounts = new AcmeAccounts({ repo: options.repo, audit: options.audit, eab: this.eabKeys, eabRequired: options.eabRequired, limits });
    this.#eabRequired = options.eabRequired;
    this.#meta = options.meta;
  }

  /** The directory object (RFC 8555 7.1.1); built from configuration only: no database round trip. */
  directory(origin: string): Record<string, unknown> {
    const meta: Record<string, unknown> = { externalAccountRequired: this.#eabRequired };
    if (this.#meta.termsOfService) meta.termsOfService = this.#meta.termsOfService;
    if (this.#meta.website) meta.website = this.#meta.website;
    if (this.#meta.caaIdentities?.length) meta.caaIdentities = this.#meta.caaIdentities;
    return {
      newNonce: this.urls.newNonce(origin),
      newAccount: this.urls.newAccount(origin),
      keyChange: this.urls.keyChange(origin),
      meta,
    };
  }

  /** Spent nonces past their expiry, deleted in batches (the ACME GC loop). */
  deleteExpiredNonces(limit: number): Promise<number> {
    return this.#repo.deleteExpiredNonces(limit);
  }

  /** Rate-limit rows whose buckets are full again (the ACME GC loop). */
  deleteIdleRateLimits(limit: number): Promise<number> {
    return this.#repo.deleteIdleRateLimits(limit);
  }
}
