/**
 * What changed, from PostgreSQL: a dedicated connection LISTENs on `certfleet_changes`, where
 * triggers announce each committed change by bucket (migrations/0014_change_notifications.sql),
 * from any replica. Caches key their entries by `version(buckets)`; a notification moves the
 * version of its bucket, so the next request recomputes.
 *
 * - Writes made in a unit of work are announced by their replica after the commit, with
 *   `announce(buckets)`: one NOTIFY of its own on the feed's connection, outside any transaction
 *   (a NOTIFY inside a writing transaction serialises commits: migrations/0015). It resolves
 *   once that notification came back, so every notification committed before it has arrived
 *   too (they arrive in commit order): writers await it before acknowledging, and a client
 *   reading after a write sees it. Writers announcing together share one notification.
 * - Other replicas are signalled at the same commit, but each listening backend delivers its copy
 *   when it next runs, so another replica may not have read it yet when this one acknowledges.
 *   Readers that must see every write acknowledged anywhere before they started call `fresh()`
 *   first: one round trip on this connection, after which every notification signalled before it
 *   has been read (PostgreSQL sends pending notifications before the reply's ReadyForQuery).
 *   Readers arriving together share one round trip (test/integration/change-feed-replicas.test.ts).
 * - While the connection is down nothing is known: `healthy` is false (caches must not serve),
 *   and every version moves when it comes back (notifications sent meanwhile were lost).
 */
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

export const changeChannel = 'certfleet_changes';
const syncPrefix = 'sync:';
/** Bucket characters per announcement (PostgreSQL's payload limit is 8,000 bytes; ids are ASCII). */
const maxPayloadChars = 7_000;

/** A cache keeping itself current from the feed (`ChangeFeed.subscribe`). */
export interface ChangeSubscriber {
  /** `<prefix>/<subject>` was announced: drop what is held for `subject`. */
  changed(subject: string): void;
  /** The feed (re)connected: anything announced meanwhile was missed; drop everything. */
  reset(): void;
}

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
  /** Announcements in flight: token -> resolvers waiting for it to come back. */
  #syncs = new Map<string, Array<() => void>>();
  #pendingSync: { buckets: Set<string>; waiters: Array<() => void> } | undefined;
  #syncCounter = 0;
  /** Prefix -> subscriber: their buckets go to the subscriber instead of the version map. */
  readonly #subscribers = new Map<string, ChangeSubscriber>();
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

  /**
   * Hands announcements of `<prefix>/<subject>` to `subscriber` (per-row invalidation, e.g. one API
   * key: a version per key would grow without bound). One subscriber per prefix.
   */
  subscribe(prefix: string, subscriber: ChangeSubscriber): void {
    this.#subscribers.set(prefix, subscriber);
  }

  /** Resolves true once listening, or false after `timeoutMs` (the caller decides what that means). */
  async listening(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#healthy && !this.#stopped && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.#healthy;
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
   * Announces `buckets` to every replica (this one included) and resolves once the announcement
   * came back, i.e. once every notification committed before the call has been received.
   * Resolves at once when the feed is down (no cache serves then anyway; nobody would hear it).
   */
  announce(buckets: readonly string[] = []): Promise<void> {
    if (!this.#healthy || !this.#client) return Promise.resolve();
    const batch = (this.#pendingSync ??= { buckets: new Set<string>(), waiters: [] });
    for (const b of buckets) batch.buckets.add(b);
    const done = new Promise<void>((resolve) => batch.waiters.push(resolve));
    // One announcement in flight at a time: writers that finish while it travels share the next
    // one (each is a round trip, and round trips are most of a write's cost here).
    if (!this.#announcing) this.#sendAnnouncement();
    return done;
  }

  #announcing = false;

  #sendAnnouncement(): void {
    const batch = this.#pendingSync;
    const client = this.#client;
    if (!batch || !client) return;
    this.#pendingSync = undefined;
    this.#announcing = true;
    const token = `${syncPrefix}${process.pid}:${++this.#syncCounter}`;
    const next = () => {
      this.#announcing = false;
      if (this.#pendingSync) this.#sendAnnouncement();
    };
    this.#syncs.set(token, [...batch.waiters, next]);
    // A NOTIFY payload holds at most 8,000 bytes: many buckets (a bulk revocation announces one per
    // key) go in several notifications, the token last, so it comes back after all of them.
    const payloads: string[] = [];
    let part = '';
    for (const bucket of batch.buckets) {
      if (part && part.length + bucket.length > maxPayloadChars) {
        payloads.push(`${token}.${payloads.length}|${part}`);
        part = '';
      }
      part = part ? `${part},${bucket}` : bucket;
    }
    payloads.push(part ? `${token}|${part}` : token);
    const sent =
      payloads.length === 1
        ? client.query('SELECT pg_notify($1, $2)', [changeChannel, payloads[0]])
        : client.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n', [changeChannel, payloads]);
    sent.catch(() => this.#releaseSyncs());
  }

  /** `announce()` with nothing to announce: waits until everything committed so far has arrived. */
  sync(): Promise<void> {
    return this.announce();
  }

  #barrier: Array<() => void> | undefined;
  #barrierInFlight = false;

  /**
   * Resolves once a round trip on the feed's connection that began after this call came back: by
   * then every notification of a commit acknowledged before the call (on any replica) has been
   * received. Cheaper than `sync()`: no NOTIFY, nothing for other replicas to read. Callers arriving
   * while one round trip travels share the next. Resolves at once when the feed is down (caches
   * bypass themselves then; check `healthy` afterwards).
   */
  fresh(): Promise<void> {
    if (!this.#healthy || !this.#client) return Promise.resolve();
    const waiters = (this.#barrier ??= []);
    const done = new Promise<void>((resolve) => waiters.push(resolve));
    if (!this.#barrierInFlight) this.#sendBarrier();
    return done;
  }

  #sendBarrier(): void {
    const waiters = this.#barrier;
    const client = this.#client;
    this.#barrier = undefined;
    if (!waiters) return;
    if (!client) return waiters.forEach((resolve) => resolve());
    this.#barrierInFlight = true;
    const settle = () => {
      this.#barrierInFlight = false;
      for (const resolve of waiters) resolve();
      if (this.#barrier) this.#sendBarrier();
    };
    // An empty query: no parse or plan, just EmptyQueryResponse + ReadyForQuery behind any
    // notifications the backend had pending.
    client.query('').then(settle, settle);
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
    for (const subscriber of this.#subscribers.values()) subscriber.reset();
    this.#setHealthy(true);
  }

  #received(payload: string): void {
    this.received += 1;
    if (payload.startsWith(syncPrefix)) {
      // `sync:<token>[|bucket,bucket]`: a replica's announcement of what its commits changed.
      const bar = payload.indexOf('|');
      if (bar > 0) for (const bucket of payload.slice(bar + 1).split(',')) this.#bump(bucket);
      const token = bar > 0 ? payload.slice(0, bar) : payload;
      const waiters = this.#syncs.get(token);
      if (waiters) {
        this.#syncs.delete(token);
        for (const resolve of waiters) resolve();
      }
      return;
    }
    this.#bump(payload);
  }

  #bump(bucket: string): void {
    const slash = bucket.indexOf('/');
    const subscriber = slash > 0 ? this.#subscribers.get(bucket.slice(0, slash)) : undefined;
    if (subscriber) return subscriber.changed(bucket.slice(slash + 1));
    this.#all += 1;
    this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + 1);
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
    const pending = this.#pendingSync;
    this.#pendingSync = undefined;
    if (pending) for (const resolve of pending.waiters) resolve();
    this.#announcing = false;
    const barrier = this.#barrier;
    this.#barrier = undefined;
    if (barrier) for (const resolve of barrier) resolve();
  }

  #setHealthy(healthy: boolean): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#o.log.info({ healthy }, healthy ? 'change feed listening' : 'change feed down');
  }
}
