/**
 * ACME accounts by id, held in memory: every JWS signed with a kid names its account (three
 * times per issuance), and each lookup was a database round trip. Accounts change rarely
 * (contact, key rollover, deactivation); migration 0024 announces `acme_accounts/<id>` on every
 * change and each replica drops that entry when its change feed hears it (the writing replica
 * before it acknowledges the change). While the feed is down, an entry is trusted for 1 s at
 * most; after it reconnects, everything is dropped (announcements may have been missed). Unknown
 * ids are never remembered: an account just made on another replica works at once.
 */
import type { AcmeAccountRow } from '../domain/acme.ts';

export interface AccountChanges {
  readonly healthy: boolean;
  subscribe(prefix: string, subscriber: { changed(subject: string): void; reset(): void }): void;
}

export interface AccountCacheOptions {
  lookup: (id: string) => Promise<AcmeAccountRow | undefined>;
  changes: AccountChanges;
  /** Accounts held at most (oldest fetched dropped first); default 100,000. */
  maxEntries?: number;
  /** How long an entry is trusted while the change feed is down; default 1 s. */
  fallbackTtlMs?: number;
  now?: () => number;
}

export class AcmeAccountCache {
  readonly #o: Required<AccountCacheOptions>;
  /** Insertion order is fetch order: the first entry is the oldest. */
  readonly #entries = new Map<string, { account: AcmeAccountRow; fetchedAt: number }>();
  /** Moves on every eviction: a lookup that began before one keeps its answer to itself. */
  #evictions = 0;

  constructor(options: AccountCacheOptions) {
    this.#o = { maxEntries: 100_000, fallbackTtlMs: 1_000, now: Date.now, ...options };
    this.#o.changes.subscribe('acme_accounts', {
      changed: (id) => {
        this.#evictions += 1;
        this.#entries.delete(id);
      },
      reset: () => {
        this.#evictions += 1;
        this.#entries.clear();
      },
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  async accountById(id: string): Promise<AcmeAccountRow | undefined> {
    const hit = this.#entries.get(id);
    if (hit && (this.#o.changes.healthy || this.#o.now() - hit.fetchedAt < this.#o.fallbackTtlMs)) return hit.account;
    const epoch = this.#evictions;
    const account = await this.#o.lookup(id);
    if (account && epoch === this.#evictions) {
      this.#entries.delete(id);
      this.#entries.set(id, { account, fetchedAt: this.#o.now() });
      if (this.#entries.size > this.#o.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return account;
  }
}
