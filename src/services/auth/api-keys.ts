/**
 * API keys: creation (the secret is returned once), revocation, and authentication of a
 * bearer token with an in-memory cache.
 *
 * Keys are stored as SHA-256 hex only. Authentication hashes the presented token and looks the
 * hash up: the lookup leaks nothing about the secret (an attacker cannot steer the hash), and the
 * stored hash is still compared with timingSafeEqual before a principal is returned.
 *
 * Unknown tokens are remembered apart, briefly (`negativeTtlMs`, 5 s) and in a small map
 * (`negativeCacheEntries`, 10,000): random tokens from an attacker never repeat, so caching them
 * like keys only grew memory (300,000 random tokens: RSS 188 -> 351 MB) without sparing a lookup.
 *
 * Cache: a revoked, expired or deleted key is evicted on every replica when the change feed
 * announces it (`api_keys/<id>`, migrations/0021; within milliseconds, measured in
 * test/integration/api-key-replicas.test.ts). The announcement travels with the change's COMMIT
 * (migrations/0028), so it cannot be lost to a writer dying after its COMMIT, and a feed that
 * reconnects evicts everything: entries therefore live long (`cacheTtlMs`, 10 minutes, a last
 * line of defence), and only `fallbackTtlMs` (1 s) while the feed is down, so a revocation still
 * takes effect within a second everywhere. Every replica refreshes every key it serves once per
 * TTL: at 30 s that was 100,000 agent keys every ~20 s per replica, the largest cost a second
 * replica added to a heartbeat storm (docs/operator/scale-out.md). A fleet of 100,000 agents is 100,000 keys: lookups are
 * batched (the misses and refreshes of one event-loop turn share one `= ANY($1)` query), an
 * entry used after 50-90% of its TTL (drawn per entry) is refreshed in the background so steady traffic never waits on
 * the database, and a full cache drops its oldest entries, never everything. Measured with
 * 100,000 agents heartbeating (docs/operator/scale.md): one query per key per TTL used to be
 * ~3,000 single-row queries/s on the request path.
 * `last_used_at` is recorded in memory and written in one batched UPDATE every
 * `lastUsedFlushMs`, so authentication never writes per request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRepository } from '../../db/api-keys.ts';
import type { ChangeSubscriber } from '../../db/change-feed.ts';
import type { ApiKeyRow } from '../../domain/api-keys.ts';
import { DuplicateKeyNameError } from '../../db/api-keys.ts';
import { Errors } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { AuditWriter } from '../audit/writer.ts';
import { newId } from '../../domain/ids.ts';
import type { Role } from '../../domain/roles.ts';
import { rolePermissions, type Principal } from './permissions.ts';

export const bootstrapAdminKeyName = 'bootstrap-admin';
/**
 * An entry used after a fraction of its TTL drawn uniformly from [0.5, 0.9) is refreshed in the
 * background. Drawn per entry: a fleet whose keys were all fetched in the same seconds (a
 * restart, a storm) would otherwise refresh all at once and dip throughput every TTL (measured:
 * 30k -> 24k heartbeats/s for ~4 s every 27 s with 100,000 agents and a fixed 0.8).
 */
const refreshFrom = 0.5;
const refreshSpread = 0.4;
/** How long a cached key is trusted while the change feed is up (see the header). */
const cacheTtlMs = 600_000;
/** Without a change feed (one-shot commands, tests) nothing evicts an entry: trusted this long. */
const unwatchedTtlMs = 30_000;
/** Tokens longer than this are rejected before hashing: no key we issue comes close. */
const maxTokenLength = 512;

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** `cfk_` + 256 random bits in base64url; the prefix lets secret scanners spot leaked keys. */
export function generateApiKeySecret(): string {
  return `cfk_${randomBytes(32).toString('base64url')}`;
}

interface CacheEntry {
  row: ApiKeyRow | undefined;
  principal: Principal | undefined;
  fetchedAt: number;
  /** When a use starts a background refresh (see refreshFrom). */
  refreshAt: number;
}

export interface ApiKeyServiceOptions {
  repo: ApiKeyRepository;
  log: Logger;
  /** Records key creation and revocation, in the same commit. */
  audit: AuditWriter;
  /** Milliseconds since the epoch; injected for tests. */
  now?: () => number;
  /** Uniform [0, 1) for the refresh spread; injected for tests. */
  random?: () => number;
  cacheTtlMs?: number;
  /** Keys kept in memory; default 1,000,000 (about 400 bytes each). */
  cacheEntries?: number;
  /** Unknown tokens remembered (as their hash); default 10,000. */
  negativeCacheEntries?: number;
  /** How long an unknown token is remembered; default 5 s (a key created on another replica works after at most this). */
  negativeTtlMs?: number;
  lastUsedFlushMs?: number;
  /**
   * The change feed: evictions announced by any replica (`subscribe('api_keys', ...)`), and
   * whether it is up (while it is down entries live `fallbackTtlMs`). With it entries live
   * `cacheTtlMs` (default 10 minutes), without it (tests, one-shot commands) 30 s.
   */
  changes?: { readonly healthy: boolean; subscribe(prefix: string, subscriber: ChangeSubscriber): void };
  /** Entry lifetime while the change feed is down; default 1 s. */
  fallbackTtlMs?: number;
}

export class ApiKeyService {
  readonly #repo: ApiKeyRepository;
  readonly #log: Logger;
  readonly #audit: AuditWriter;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #cacheTtlMs: number;
  readonly #cacheEntries: number;
  /** Insertion order is fetch order: the first entry is the oldest (evicted first). */
  readonly #cache = new Map<string, CacheEntry>();
  /** Unknown token hashes -> when they were looked up; insertion order is age. */
  readonly #misses = new Map<string, number>();
  readonly #negativeEntries: number;
  readonly #negativeTtlMs: number;
  /** Lookups waiting for the next batched query; concurrent lookups of one hash share one. */
  #batch = new Map<string, Promise<CacheEntry>>();
  #batchResolvers = new Map<string, (entry: CacheEntry) => void>();
  #batchRejecters: Array<(err: unknown) => void> = [];
  readonly #used = new Set<string>();
  readonly #flushTimer: NodeJS.Timeout;
  readonly #changes: ApiKeyServiceOptions['changes'];
  readonly #fallbackTtlMs: number;
  /** Key id -> the hash its cache entry is under, so an announcement by id can evict it. */
  readonly #hashById = new Map<string, string>();
  /** Moves on every eviction by announcement: a lookup that began before one stores nothing. */
  #evictions = 0;

  constructor(options: ApiKeyServiceOptions) {
    this.#repo = options.repo;
    this.#log = options.log;
    this.#audit = options.audit;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#cacheTtlMs = options.cacheTtlMs ?? (options.changes ? cacheTtlMs : unwatchedTtlMs);
    this.#cacheEntries = options.cacheEntries ?? 1_000_000;
    this.#negativeEntries = options.negativeCacheEntries ?? 10_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#flushTimer = setInterval(() => void this.flushLastUsed(), options.lastUsedFlushMs ?? 60_000);
    this.#flushTimer.unref();
    this.#changes = options.changes;
    this.#fallbackTtlMs = options.fallbackTtlMs ?? 1_000;
    this.#changes?.subscribe('api_keys', {
      changed: (id) => this.#evict(id),
      reset: () => this.#evictAll(),
    });
  }

  /** Keys and unknown tokens held in memory, for /metrics. */
  get cacheSizes(): { keys: number; unknown: number } {
    return { keys: this.#cache.size, unknown: this.#misses.size };
  }

  async create(input: { name: string; role: Role; expiresAt?: Date | undefined }, principal?: Principal): Promise<{ key: ApiKeyRow; secret: string }> {
    if (input.role === 'agent') {
      throw Errors.validation('role: agent keys are issued by agent registration, bound to one agent');
    }
    if (input.expiresAt && input.expiresAt.getTime() <= this.#now()) {
      throw Errors.validation('expires_at: must be in the future');
    }
    const secret = generateApiKeySecret();
    const audit = this.#audit;
    try {
      const key = await audit.atomically(async () => {
        const key = await this.#repo.insert({
          id: newId('ak', this.#now()),
          name: input.name,
          role: input.role,
          key_hash: hashApiKey(secret),
          expires_at: input.expiresAt ?? null,
        });
        await audit.record(principal, {
          action: 'api_key_created',
          resourceType: 'api_key',
          resourceId: key.id,
          category: 'auth',
          details: { name: key.name, role: key.role },
        });
        return key;
      });
      return { key, secret };
    } catch (err) {
      if (err instanceof DuplicateKeyNameError) throw Errors.conflict(err.message);
      throw err;
    }
  }

  list(includeRevoked: boolean): Promise<ApiKeyRow[]> {
    return this.#repo.list({ includeRevoked });
  }

  async get(id: string): Promise<ApiKeyRow> {
    const row = await this.#repo.getById(id);
    if (!row) throw Errors.notFound(`API key ${id} not found`);
    return row;
  }

  /** Idempotent: revoking a revoked key succeeds. Evicts the key from this replica's cache. */
  async revoke(id: string, principal?: Principal): Promise<ApiKeyRow> {
    const row = await this.#audit.atomically(async () => {
      const row = await this.#repo.revoke(id);
      if (!row) throw Errors.notFound(`API key ${id} not found`);
      await this.#audit.record(principal, {
        action: 'api_key_revoked',
        resourceType: 'api_key',
        resourceId: id,
        category: 'auth',
        details: { name: row.name },
      });
      return row;
    });
    this.#evict(row.id);
    return row;
  }

  /** The principal for a bearer token, or undefined when the token is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (token.length === 0 || token.length > maxTokenLength) return undefined;
    const hash = hashApiKey(token);
    const now = this.#now();
    let entry = this.#cache.get(hash);
    if (!entry) {
      const missedAt = this.#misses.get(hash);
      if (missedAt !== undefined && now - missedAt <= this.#negativeTtlMs) return undefined;
    }
    if (!entry || now - entry.fetchedAt > this.#ttlMs()) entry = await this.#load(hash);
    else if (now > entry.refreshAt) this.#load(hash).catch(() => undefined); // refresh ahead
    const row = entry.row;
    if (!row || !entry.principal) return undefined;
    if (!timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
    if (row.revoked_at !== null) return undefined;
    if (row.expires_at !== null && row.expires_at.getTime() <= now) return undefined;
    // An agent's liveness is its heartbeat (agent_liveness); tracking its key's last use too
    // would rewrite 100,000 api_keys rows a minute for a 100,000-agent fleet.
    if (row.role !== 'agent') this.#used.add(row.id);
    return entry.principal;
  }

  /**
   * Makes CERTFLEET_ADMIN_API_KEY a working admin key named bootstrap-admin. A changed value
   * replaces (revokes) the previous bootstrap key. A value that was revoked through the API
   * stays revoked: restarting must not resurrect a key an operator withdrew.
   */
  async bootstrapAdmin(secret: string): Promise<void> {
    const hash = hashApiKey(secret);
    const existing = await this.#repo.findByHash(hash);
    if (existing) {
      if (existing.revoked_at !== null) {
        this.#log.error('CERTFLEET_ADMIN_API_KEY was revoked through the API; set a new value to bootstrap an admin key');
      }
      return;
    }
    const previous = await this.#repo.findActiveByName(bootstrapAdminKeyName);
    // (A replica that started with us may have registered this very key meanwhile: not "previous".)
    if (previous && previous.key_hash !== hash) {
      await this.revoke(previous.id);
      this.#log.info({ keyId: previous.id }, 'CERTFLEET_ADMIN_API_KEY changed: revoked the previous bootstrap key');
    }
    let key;
    try {
      key = await this.#repo.insert({
        id: newId('ak', this.#now()),
        name: bootstrapAdminKeyName,
        role: 'admin',
        key_hash: hash,
        expires_at: null,
      });
    } catch (err) {
      // Replicas starting together race to register the same key: the one that lost finds
      // the winner's row and carries on (it used to exit on the unique violation).
      if ((await this.#repo.findByHash(hash))?.revoked_at === null) return;
      throw err;
    }
    this.#log.info({ keyId: key.id }, 'bootstrap admin key registered from CERTFLEET_ADMIN_API_KEY');
  }

  async flushLastUsed(): Promise<void> {
    if (this.#used.size === 0) return;
    const ids = [...this.#used];
    this.#used.clear();
    try {
      await this.#repo.touchLastUsed(ids, new Date(this.#now()));
    } catch (err) {
      // Best effort bookkeeping: the keys are retried at the next flush.
      for (const id of ids) this.#used.add(id);
      this.#log.warn({ err: (err as Error).message }, 'recording API key last use failed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#flushTimer);
    await this.flushLastUsed();
  }

  /** How long an entry is trusted: the change feed evicts changed keys while it is up. */
  #ttlMs(): number {
    return this.#changes && !this.#changes.healthy ? this.#fallbackTtlMs : this.#cacheTtlMs;
  }

  #evict(id: string): void {
    this.#evictions += 1;
    const hash = this.#hashById.get(id);
    if (hash === undefined) return;
    this.#hashById.delete(id);
    this.#cache.delete(hash);
  }

  #evictAll(): void {
    this.#evictions += 1;
    this.#hashById.clear();
    this.#cache.clear();
  }

  #forget(hash: string): void {
    const id = this.#cache.get(hash)?.row?.id;
    if (id !== undefined) this.#hashById.delete(id);
    this.#cache.delete(hash);
  }

  /** Queues `hash` for the next batched lookup (one query per event-loop turn). */
  #load(hash: string): Promise<CacheEntry> {
    const pending = this.#batch.get(hash);
    if (pending) return pending;
    if (this.#batch.size === 0) setImmediate(() => void this.#runBatch());
    const promise = new Promise<CacheEntry>((resolve, reject) => {
      this.#batchResolvers.set(hash, resolve);
      this.#batchRejecters.push(reject);
    });
    this.#batch.set(hash, promise);
    return promise;
  }

  async #runBatch(): Promise<void> {
    const resolvers = this.#batchResolvers;
    const rejecters = this.#batchRejecters;
    this.#batch = new Map();
    this.#batchResolvers = new Map();
    this.#batchRejecters = [];
    const evictionsBefore = this.#evictions;
    let rows: ApiKeyRow[];
    try {
      // At most 5,000 hashes a query (a cold cache under a storm asks for all keys at once).
      const hashes = [...resolvers.keys()];
      const chunks = Array.from({ length: Math.ceil(hashes.length / 5000) }, (_, i) => hashes.slice(i * 5000, (i + 1) * 5000));
      rows = (await Promise.all(chunks.map((chunk) => this.#repo.findByHashes(chunk)))).flat();
    } catch (err) {
      for (const reject of rejecters) reject(err);
      return;
    }
    const found = new Map(rows.map((row) => [row.key_hash, row]));
    const fetchedAt = this.#now();
    // A key evicted while the query ran may have been read before its change committed: answer
    // the waiting requests, but keep nothing (the next use reads again).
    const store = this.#evictions === evictionsBefore;
    for (const [hash, resolve] of resolvers) {
      const row = found.get(hash);
      const entry: CacheEntry = {
        row,
        principal: row
          ? { keyId: row.id, name: row.name, role: row.role, permissions: rolePermissions[row.role], agentId: row.agent_id ?? undefined }
          : undefined,
        fetchedAt,
        refreshAt: fetchedAt + this.#cacheTtlMs * (refreshFrom + refreshSpread * this.#random()),
      };
      this.#forget(hash); // re-inserted at the end: the order stays fetch order
      this.#misses.delete(hash);
      if (row && store) {
        while (this.#cache.size >= this.#cacheEntries) this.#forget(this.#cache.keys().next().value!);
        this.#cache.set(hash, entry);
        this.#hashById.set(row.id, hash);
      } else if (!row) {
        while (this.#misses.size >= this.#negativeEntries) this.#misses.delete(this.#misses.keys().next().value!);
        this.#misses.set(hash, fetchedAt);
      }
      resolve(entry);
    }
  }
}
