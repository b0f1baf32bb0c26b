/**
 * CRLs per local issuer: built in a worker, stored in PostgreSQL (so every replica serves the
 * same numbered CRL), cached in memory. The leader's crl-refresh loop rebuilds stored CRLs at
 * half their refresh age; a request rebuilds one only when it is older than `refreshMs` (no
 * leader for that long) or missing. Also rebuilt shortly after revocations (debounced: a burst
 * of revocations costs one rebuild). Other replicas pick up a newer stored CRL within `recheckMs`.
 */
import { createHash } from 'node:crypto';
import type { RevocationRepository } from '../../db/revocations.ts';
import type { Logger } from '../../observability/logger.ts';
import type { WorkerPool } from '../../workers/pool.ts';
import type { CaSpec, LocalCaRegistry } from './local-ca.ts';

export interface ServedCrl {
  der: Buffer;
  /** SHA-256 of the DER (base64url), computed once per CRL: the HTTP layer's strong ETag. */
  hash: string;
  crlNumber: number;
  nextUpdate: Date;
}

export interface CrlServiceOptions {
  repo: RevocationRepository;
  cas: LocalCaRegistry;
  workers: WorkerPool;
  log: Logger;
  /** Issuer lookup: its CA spec, or undefined when it is not a local issuer. */
  issuerCaSpec: (issuerId: string) => Promise<CaSpec | undefined>;
  /** Rebuild when the stored CRL is older than this; default 1 hour. */
  refreshMs?: number;
  /** A CRL's validity (nextUpdate - thisUpdate); default 24 hours. */
  validityMs?: number;
  /** Delay that coalesces revocations into one rebuild; default 1 second. */
  debounceMs?: number;
  /** How often a cached CRL is compared with the stored one; default 30 seconds. */
  recheckMs?: number;
}

interface CacheEntry {
  crl: ServedCrl;
  checkedAt: number;
  thisUpdate: number;
}

export class CrlService {
  readonly #o: Required<Omit<CrlServiceOptions, 'issuerCaSpec'>> & Pick<CrlServiceOptions, 'issuerCaSpec'>;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #pending = new Map<string, NodeJS.Timeout>();
  readonly #building = new Map<string, Promise<ServedCrl>>();

  constructor(options: CrlServiceOptions) {
    this.#o = { refreshMs: 3_600_000, validityMs: 86_400_000, debounceMs: 1_000, recheckMs: 30_000, ...options };
  }

  /** The current CRL of a local issuer; undefined when there is no such local issuer. */
  async get(issuerId: string): Promise<ServedCrl | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(issuerId);
    if (cached && now - cached.checkedAt < this.#o.recheckMs && now - cached.thisUpdate < this.#o.refreshMs) return cached.crl;
    const spec = await this.#o.issuerCaSpec(issuerId);
    if (spec === undefined) return undefined;
    const stored = await this.#o.repo.storedCrl(issuerId);
    if (stored && now - stored.this_update.getTime() < this.#o.refreshMs) {
      const crl = { der: stored.der, hash: sha256(stored.der), crlNumber: stored.crl_number, nextUpdate: stored.next_update };
      this.#cache.set(issuerId, { crl, checkedAt: now, thisUpdate: stored.this_update.getTime() });
      return crl;
    }
    return this.rebuild(issuerId, spec);
  }

  /** Rebuild soon: many revocations within debounceMs cost one rebuild. */
  scheduleRebuild(issuerId: string): void {
    if (this.#pending.has(issuerId)) return;
    const timer = setTimeout(() => {
      this.#pending.delete(issuerId);
      void this.#o
        .issuerCaSpec(issuerId)
        .then((spec) => (spec === undefined ? undefined : this.rebuild(issuerId, spec)))
        .catch((err: unknown) => this.#o.log.error({ err, issuerId }, 'CRL rebuild failed'));
    }, this.#o.debounceMs);
    timer.unref();
    this.#pending.set(issuerId, timer);
  }

  rebuild(issuerId: string, spec: CaSpec): Promise<ServedCrl> {
    let building = this.#building.get(issuerId);
    if (!building) {
      building = this.#rebuild(issuerId, spec).finally(() => this.#building.delete(issuerId));
      this.#building.set(issuerId, building);
    }
    return building;
  }

  async #rebuild(issuerId: string, spec: CaSpec): Promise<ServedCrl> {
    const ca = await this.#o.cas.get(issuerId, spec);
    const [stored, revoked] = await Promise.all([this.#o.repo.storedCrl(issuerId), this.#o.repo.forCrl(issuerId)]);
    const thisUpdate = Math.floor(Date.now() / 1000) * 1000;
    const nextUpdate = thisUpdate + this.#o.validityMs;
    const crlNumber = (stored?.crl_number ?? 0) + 1;
    const der = Buffer.from(
      await this.#o.workers.run('buildCrl', {
        ca: { keyPkcs8: ca.keyPkcs8, certificateDer: ca.certificateDer },
        crlNumber,
        thisUpdate,
        nextUpdate,
        ...revoked,
      }),
    );
    const won = await this.#o.repo.storeCrl(issuerId, {
      crl_number: crlNumber,
      der,
      this_update: new Date(thisUpdate),
      next_update: new Date(nextUpdate),
      revoked: revoked.serials.length,
    });
    if (!won) {
      // Another replica stored this number (or a newer one) first. Two different CRLs must never
      // share a number (RFC 5280 5.2.3), so serve the stored one, and rebuild once more: the
      // winner may have read the revocations before the one that triggered this rebuild.
      this.scheduleRebuild(issuerId);
      const winner = await this.#o.repo.storedCrl(issuerId);
      if (winner) {
        const crl = { der: winner.der, hash: sha256(winner.der), crlNumber: winner.crl_number, nextUpdate: winner.next_update };
        this.#cache.set(issuerId, { crl, checkedAt: Date.now(), thisUpdate: winner.this_update.getTime() });
        return crl;
      }
    }
    const crl = { der, hash: sha256(der), crlNumber, nextUpdate: new Date(nextUpdate) };
    this.#cache.set(issuerId, { crl, checkedAt: Date.now(), thisUpdate });
    this.#o.log.info({ issuerId, crlNumber, revoked: revoked.serials.length, bytes: der.length }, 'CRL rebuilt');
    return crl;
  }

  /**
   * Rebuilds every stored CRL that is older than half the refresh age (the leader's CRL loop), so
   * requests on any replica find a fresh stored CRL and never pay for a rebuild themselves.
   * Issuers whose CRL was never asked for are left alone (no CA key is created for them).
   */
  async refreshStale(signal?: AbortSignal): Promise<number> {
    let rebuilt = 0;
    for (const issuerId of await this.#o.repo.staleCrlIssuers(new Date(Date.now() - this.#o.refreshMs / 2))) {
      if (signal?.aborted) break;
      const spec = await this.#o.issuerCaSpec(issuerId);
      if (spec === undefined) continue;
      await this.rebuild(issuerId, spec);
      rebuilt++;
    }
    return rebuilt;
  }

  close(): void {
    for (const timer of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64url');
