/**
 * The ACME server's parts, wired once (app.ts) and handed to its routes
 * (src/http/routes/acme/routes.ts): URLs, nonces, request verification, accounts, and the
 * directory's meta fields.
 */
import type { AcmeOrderRepository } from '../db/acme-orders.ts';
import type { AcmeProfile } from '../domain/acme.ts';
import type { AcmeServerRepository } from '../db/acme-server.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import type { CertificateService } from '../services/certificates/certificates.ts';
import type { IssuanceService } from '../services/pki/issuance.ts';
import type { RevocationService } from '../services/pki/revocation.ts';
import type { WorkerPool } from '../workers/pool.ts';
import { AcmeAccounts } from './accounts.ts';
import { AcmeOrders, type AcmeOrderSettings } from './orders.ts';
import { AcmeProblems } from './problems.ts';
import { AcmeAccountCache, type AccountChanges } from './account-cache.ts';
import { AcmeProfiles, type ProfileChanges } from './profiles.ts';
import { parseRenewalCertId, renewalWindow, type RenewalWindow } from './renewal-info.ts';
import { AcmeRevocation } from './revocation.ts';
import { ValidationQueue } from './validation-queue.ts';
import { ChallengeValidators, type ValidatorSettings } from './validators.ts';
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
  /** The change feed, for the account cache (every replica drops an account another changed); none: no cache. */
  accountChanges?: AccountChanges;
  orders: {
    repo: AcmeOrderRepository;
    /** Profile changes from every replica (the change feed). */
    changes?: ProfileChanges;
    defaultProfile: string | undefined;
    settings: AcmeOrderSettings;
    /** How long orders that expired without a certificate are kept (then the ACME GC deletes them). */
    retentionSeconds: number;
    validators: ValidatorSettings;
    validation: { concurrency: number; timeoutSeconds: number };
    certificates: Pick<CertificateService, 'create'>;
    issuance: Pick<IssuanceService, 'issueFromCsr' | 'issueNew' | 'issuerContext' | 'signNew' | 'recordNew'>;
    revocation: Pick<RevocationService, 'revoke'>;
    workers: Pick<WorkerPool, 'run'>;
  };
  /** Seconds clients wait between renewal-info polls (RFC 9773 4.3 Retry-After). */
  renewalInfoRetryAfterSeconds: number;
}

/** Serialized directories held (one per origin and entry profile; see directoryBody). */
const maxHeldDirectories = 64;

export class AcmeServer {
  readonly urls: AcmeUrls;
  readonly nonces: NonceService;
  readonly verifier: AcmeRequestVerifier;
  readonly accounts: AcmeAccounts;
  readonly eabKeys: AcmeEabKeys;
  readonly profiles: AcmeProfiles;
  readonly orders: AcmeOrders;
  readonly revocation: AcmeRevocation;
  readonly validations: ValidationQueue;
  readonly renewalInfoRetryAfterSeconds: number;
  readonly #orderRepo: AcmeOrderRepository;
  readonly #orderRetentionSeconds: number;
  readonly #eabRequired: boolean;
  readonly #meta: AcmeDirectoryMeta;
  readonly #directories = new Map<string, { profiles: readonly AcmeProfile[]; body: Buffer }>();
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
      accounts: options.accountChanges ? new AcmeAccountCache({ lookup: (id) => options.repo.accountById(id), changes: options.accountChanges }) : options.repo,
      accountUrl: (origin, id) => this.urls.account(origin, id),
      ...(options.remoteVerify ? { remoteVerify: options.remoteVerify } : {}),
    });
    this.eabKeys = new AcmeEabKeys({ repo: options.repo, audit: options.audit, encryptionKey: options.encryptionKey });
    const limits = new AcmeRateLimits({ repo: options.repo, settings: options.rateLimits });
    this.accounts = new AcmeAccounts({ repo: options.repo, audit: options.audit, eab: this.eabKeys, eabRequired: options.eabRequired, limits });
    this.#eabRequired = options.eabRequired;
    this.#meta = options.meta;
    const o = options.orders;
    this.#orderRepo = o.repo;
    this.#orderRetentionSeconds = o.retentionSeconds;
    this.profiles = new AcmeProfiles({ load: () => o.repo.offeredProfiles(), defaultProfile: o.defaultProfile, ...(o.changes ? { changes: o.changes } : {}) });
    this.validations = new ValidationQueue({
      concurrency: o.validation.concurrency,
      maxQueued: o.validation.concurrency * 50,
      timeoutMs: o.validation.timeoutSeconds * 1000,
    });
    this.orders = new AcmeOrders({
      repo: o.repo,
      audit: options.audit,
      profiles: this.profiles,
      limits,
      queue: this.validations,
      validators: new ChallengeValidators(o.validators),
      certificates: o.certificates,
      issuance: o.issuance,
      workers: o.workers,
      settings: o.settings,
    });
    this.revocation = new AcmeRevocation({ repo: o.repo, revocation: o.revocation });
    this.renewalInfoRetryAfterSeconds = options.renewalInfoRetryAfterSeconds;
  }

  /** Checks the profile a `/acme/{profile}/...` URL names: 404 unless it is offered. */
  async pathProfile(profile: string): Promise<void> {
    if (!(await this.profiles.list()).some((p) => p.name === profile || p.id === profile)) {
      throw AcmeProblems.notFound(`the ACME profile ${JSON.stringify(profile.slice(0, 64))}`);
    }
  }

  /** RFC 9773 renewal information for a certificate id; 404 for a certificate not issued here. */
  async renewalInfo(certId: string): Promise<RenewalWindow> {
    const serial = parseRenewalCertId(certId);
    const version = await this.#orderRepo.issuedVersionBySerial(serial);
    if (!version) throw AcmeProblems.notFound(`a certificate issued here with serial ${serial}`);
    return renewalWindow(version);
  }

  /** Orders past their expiry become invalid; long-expired ones without a certificate go (the ACME GC loop). */
  expireOrders(limit: number): Promise<number> {
    return this.#orderRepo.expireOrders(limit);
  }
  deleteExpiredOrders(limit: number): Promise<number> {
    return this.#orderRepo.deleteExpiredOrders(this.#orderRetentionSeconds, limit);
  }

  /** Validations a replica abandoned, run again (the ACME GC loop). */
  retryInterruptedValidations(limit: number): Promise<number> {
    return this.orders.retryInterruptedValidations(limit);
  }

  /** Stops validations in flight (shutdown). */
  close(): void {
    this.validations.close();
  }

  /**
   * The directory (RFC 8555 7.1.1) as sent, from configuration and the in-memory profile list:
   * serialized once per origin and entry profile, and again only when the profile list changed
   * (every client run starts here; the JSON and its UTF-8 copy were a third of its cost).
   */
  async directoryBody(origin: string, profile?: string): Promise<Buffer> {
    const profiles = await this.profiles.list();
    const key = `${origin}\n${profile ?? ''}`;
    const held = this.#directories.get(key);
    if (held?.profiles === profiles) return held.body;
    const body = Buffer.from(JSON.stringify(this.#directory(profiles, origin, profile)));
    // Origins come from the Host header, which any client sets: a small bound, emptied when full.
    if (this.#directories.size >= maxHeldDirectories) this.#directories.clear();
    this.#directories.set(key, { profiles, body });
    return body;
  }

  #directory(profiles: readonly AcmeProfile[], origin: string, profile: string | undefined): Record<string, unknown> {
    const meta: Record<string, unknown> = { externalAccountRequired: this.#eabRequired };
    if (profiles.length > 0) meta.profiles = Object.fromEntries(profiles.map((p) => [p.name, p.description || `certificate profile ${p.name}`]));
    if (this.#meta.termsOfService) meta.termsOfService = this.#meta.termsOfService;
    if (this.#meta.website) meta.website = this.#meta.website;
    if (this.#meta.caaIdentities?.length) meta.caaIdentities = this.#meta.caaIdentities;
    return {
      newNonce: this.urls.newNonce(origin, profile),
      newAccount: this.urls.newAccount(origin, profile),
      newOrder: this.urls.newOrder(origin, profile),
      revokeCert: this.urls.revokeCert(origin, profile),
      keyChange: this.urls.keyChange(origin, profile),
      renewalInfo: this.urls.renewalInfo(origin, profile),
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
