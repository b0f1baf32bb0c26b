/**
 * What changed, from PostgreSQL: a dedicated connection LISTENs on `certfleet_changes`, where
 * triggers announce each committed change by bucket (migrations/0014_change_notifications.sql),
 * from any replica. Caches key their entries by `version(buckets)`; a notification moves the
 * version of its bucket, so the next request recomputes.
 *
 * - Never stale on this replica: `sync()` resolves once every notification committed before the
 *   call has been received (it sends one of its own on the feed's connection: notifications
 *   arrive in commit order). Writers call it before acknowledging, so a client reading after a
 *   write sees it. Concurrent syncs share one round trip.
 * - Other replicas receive the same notification at the same moment (PostgreSQL signals every
 *   listener at commit); test/integration/change-feed-replicas.test.ts measures the lag.
 * - While the connection is down nothing is known: `healthy` is false (caches must not serve),
 *   and every version moves when it comes back (notifications sent meanwhile were lost).
 */
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

export const changeChannel = 'certfleet_changes';
const syncPrefix = 'sync:';

export interface ChangeFeedOptions {
  connectionString: string;
  log: Logger;
  /** Wait before reconnecting after a failure, ms; doubles up to 10 s. Default 200. */
  retryMs?: number;
}

export class ChangeFeed {
  readonly #o: ChangeFeedOptions;
  readonly #buckets = new Map<string, number>();
  /** Moves on every notification and on every reconnect: the version of "everything". */
  #all = 0;
  /** Moves on every reconnect: added to every bucket's version. */
  #epoch = 0;
  #client: pg.Client | undefined;
  #healthy = false;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  /** Barriers in flight: token -> resolvers waiting for it. */
  #syncs = new Map<string, Array<() => void>>();
  #pendingSync: { token: string; waiters: Array<() => void> } | undefined;
  #syncCounter = 0;
  /** Notifications received, for /metrics. */
  received = 0;

  constructor(options: ChangeFeedOptions) {
    this.#o = options;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** A number that changes whenever anything in `buckets` (or, without buckets, anything) changed. */
  version(buckets?: readonly string[]): number {
    if (!buckets) return this.#all;
    let v = this.#epoch * 1e9;
    for (const b of buckets) v += this.#buckets.get(b) ?? 0;
    return v;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#setHealthy(false);
    await this.#drop();
  }

  /**
   * Resolves once every notification committed before this call has been received; at once when
   * the feed is down (nothing can be served from a cache then anyway).
   */
  sync(): Promise<void> {
    if (!this.#healthy || !this.#client) return Promise.resolve();
    if (this.#pendingSync) {
      const pending = this.#pendingSync;
      return new Promise((resolve) => pending.waiters.push(resolve));
    }
    const token = `${syncPrefix}${process.pid}:${++this.#syncCounter}`;
    const batch = { token, waiters: [] as Array<() => void> };
    this.#pendingSync = batch;
    const client = this.#client;
    const done = new Promise<void>((resolve) => batch.waiters.push(resolve));
    // Sent on the next turn, so every writer that finishes in this one shares it.
    setImmediate(() => {
      this.#pendingSync = undefined;
      this.#syncs.set(token, batch.waiters);
      client.query('SELECT pg_notify($1, $2)', [changeChannel, token]).catch(() => this.#releaseSyncs());
    });
    return done;
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ connectionString: this.#o.connectionString, keepAlive: true, application_name: 'certfleet-changes' });
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    client.on('notification', (n) => this.#received(n.payload ?? ''));
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${changeChannel}`);
    } catch (err) {
      this.#lost(client, err as Error);
      return;
    }
    if (this.#client !== client) return;
    this.#failures = 0;
    // Whatever changed while nobody listened is unknown: every version moves.
    this.#epoch += 1;
    this.#all += 1;
    this.#setHealthy(true);
  }

  #received(payload: string): void {
    this.received += 1;
    if (payload.startsWith(syncPrefix)) {
      const waiters = this.#syncs.get(payload);
      if (waiters) {
        this.#syncs.delete(payload);
        for (const resolve of waiters) resolve();
      }
      return;
    }
    this.#all += 1;
    this.#buckets.set(payload, (this.#buckets.get(payload) ?? 0) + 1);
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client) return;
    this.#o.log.warn({ err: err.message }, 'change feed connection lost; caches bypassed until it is back');
    this.#setHealthy(false);
    this.#releaseSyncs();
    void this.#drop();
    if (this.#stopped) return;
    const wait = Math.min(10_000, (this.#o.retryMs ?? 200) * 2 ** this.#failures++);
    this.#timer = setTimeout(() => void this.#connect(), wait);
    this.#timer.unref();
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => undefined);
    await client.end().catch(() => undefined);
  }

  /** Writers waiting on a barrier that will never come back go on (the feed is down). */
  #releaseSyncs(): void {
    for (const waiters of this.#syncs.values()) for (const resolve of waiters) resolve();
    this.#syncs.clear();
  }

  #setHealthy(healthy: boolean): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#o.log.info({ healthy }, healthy ? 'change feed listening' : 'change feed down');
  }
}
