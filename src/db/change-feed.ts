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
 *   and every version moves when it comes back (notifications sent meanwhile were lost). Its
 *   writers still announce, through the pool (`fallback`), so other replicas hear them.
 * - An announcement can still be lost: its writer dies after the COMMIT, or cannot reach
 *   PostgreSQL to send it. Each announcement carries a number its transaction took from
 *   `certfleet_change_seq` (migrations/0029). Every `checkMs` the feed reads the sequence: a
 *   number issued before the previous check and never heard means a change nobody announced, and
 *   every version moves, as on a reconnect (`missed` counts these). So a lost announcement leaves
 *   caches stale for at most about two check periods instead of until the bucket's next change.
 */
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

export const changeChannel = 'certfleet_changes';
const syncPrefix = 'sync:';
/** Bucket characters per announcement (PostgreSQL's payload limit is 8,000 bytes; ids are ASCII). */
const maxPayloadChars = 7_000;
/** Where announcements can be sent from: the feed's connection, or the pool. */
export interface Queryable {
  query(text: string, values: unknown[]): Promise<unknown>;
}
/** An announcement's number travels as an item of its bucket list: `#<n>`. */
const numberMark = '#';
/** The last number `certfleet_change_seq` issued (0 before the first). */
const lastIssuedSql = 'SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS n FROM certfleet_change_seq';

/**
 * The notifications announcing `items` (buckets and `#<n>` numbers) under `token`: as many as the
 * payload limit needs, the token's own last, so it comes back after all of them.
 */
export function announcementPayloads(token: string, items: Iterable<string>): string[] {
  const payloads: string[] = [];
  let part = '';
  for (const item of items) {
    if (part && part.length + item.length > maxPayloadChars) {
      payloads.push(`${token}.${payloads.length}|${part}`);
      part = '';
    }
    part = part ? `${part},${item}` : item;
  }
  payloads.push(part ? `${token}|${part}` : token);
  return payloads;
}

/** Sends announcement payloads in one statement, in order, outside any transaction. */
function sendPayloads(client: Queryable, payloads: string[]): Promise<unknown> {
  return payloads.length === 1
    ? client.query('SELECT pg_notify($1, $2)', [changeChannel, payloads[0]])
    : client.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n', [changeChannel, payloads]);
}

/**
 * `afterEveryCommit` for a process without a change feed (one-shot commands): announces through
 * `pool`, so running replicas hear what the command changed.
 */
export function announceThrough(pool: Queryable): (buckets: readonly string[], announcement: number | undefined) => Promise<void> {
  let counter = 0;
  return async (buckets, announcement) => {
    const items = announcement === undefined ? buckets : [...buckets, `${numberMark}${announcement}`];
    await sendPayloads(pool, announcementPayloads(`${syncPrefix}${process.pid}:direct:${++counter}`, items));
  };
}

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
  /** How often lost announcements are looked for, ms. Default 1,000. */
  checkMs?: number;
  /** Announces through this (the pool) while the feed's own connection is down. */
  fallback?: Queryable;
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
  /** Checks that found an announcement lost (every version moved), for /metrics. */
  missed = 0;
  /** Every announcement number up to here is accounted for (heard, or covered by a flush). */
  #accountedTo = 0;
  /** Numbers heard above `#accountedTo`. */
  readonly #heard = new Set<number>();
  /** What the sequence had issued at the previous check (or at the connect). */
  #issuedAtLastCheck = 0;
  #checkTimer: NodeJS.Timeout | undefined;
  #checkFailing = false;
  /** `announceThrough(options.fallback)`: how this replica announces while its feed is down. */
  readonly #fallback: ReturnType<typeof announceThrough> | undefined;

  constructor(options: ChangeFeedOptions) {
    this.#o = options;
    this.#fallback = options.fallback ? announceThrough(options.fallback) : undefined;
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
    clearTimeout(this.#checkTimer);
    this.#setHealthy(false);
    await this.#drop();
  }

  /**
   * Announces `buckets` to every replica (this one included) and resolves once the announcement
   * came back, i.e. once every notification committed before the call has been received.
   * `announcement`: the number the transaction took (migrations/0029). While the feed is down
   * this replica's caches do not serve; the announcement goes through `fallback` for the others.
   */
  announce(buckets: readonly string[] = [], announcement?: number): Promise<void> {
    if (!this.#healthy || !this.#client) return this.#announceThroughFallback(buckets, announcement);
    const batch = (this.#pendingSync ??= { buckets: new Set<string>(), waiters: [] });
    for (const b of buckets) batch.buckets.add(b);
    if (announcement !== undefined) batch.buckets.add(`${numberMark}${announcement}`);
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
    sendPayloads(client, announcementPayloads(token, batch.buckets)).catch(() => this.#releaseSyncs());
  }

  async #announceThroughFallback(buckets: readonly string[], announcement: number | undefined): Promise<void> {
    if (!this.#fallback || (buckets.length === 0 && announcement === undefined)) return;
    try {
      await this.#fallback(buckets, announcement);
    } catch (err) {
      // The write has committed; its number goes unheard, and the other replicas' next checks flush.
      this.#o.log.warn({ err: (err as Error).message }, 'could not announce a change (the other replicas will notice it missing)');
    }
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
    let issued: number;
    try {
      issued = await this.#lastIssued(client);
    } catch (err) {
      this.#lost(client, err as Error);
      return;
    }
    if (this.#client !== client) return;
    this.#failures = 0;
    // Whatever changed while nobody listened is unknown: every version moves, and every number
    // issued so far counts as accounted for. A commit under way at this instant announces after it
    // and is heard; only its writer dying at this very moment would go unnoticed. (Flushing again
    // at the first check would cover that too, at the price of a second flush on every connect,
    // which the cache tests showed as a lost hit.)
    this.#flushAll();
    this.#accountedTo = issued;
    this.#heard.clear();
    this.#issuedAtLastCheck = issued;
    this.#setHealthy(true);
    this.#scheduleCheck();
  }

  async #lastIssued(client: pg.Client): Promise<number> {
    const { rows } = await client.query<{ n: string }>(lastIssuedSql);
    return Number(rows[0]!.n);
  }

  #scheduleCheck(): void {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = setTimeout(() => void this.#check(), this.#o.checkMs ?? 1_000);
    this.#checkTimer.unref();
  }

  /**
   * Any number issued by the previous check has had a whole period to be heard: one still
   * unheard was lost, and every version moves.
   */
  async #check(): Promise<void> {
    const client = this.#client;
    if (!client || !this.#healthy) return;
    let issued: number;
    try {
      issued = await this.#lastIssued(client);
    } catch (err) {
      // A lost connection reconnects (and flushes) through its own error handler; a failed
      // statement on a live one must not end the checks.
      if (this.#client !== client) return;
      if (!this.#checkFailing) this.#o.log.warn({ err: (err as Error).message }, 'cannot look for lost announcements; retrying every check');
      this.#checkFailing = true;
      this.#scheduleCheck();
      return;
    }
    if (this.#client !== client) return;
    if (this.#checkFailing) this.#o.log.info('looking for lost announcements again');
    this.#checkFailing = false;
    const due = this.#issuedAtLastCheck;
    if (this.#accountedTo < due) {
      this.missed += 1;
      this.#o.log.warn({ accounted_to: this.#accountedTo, issued_by: due }, 'a committed change was never announced; every cached entry dropped');
      this.#flushAll();
      this.#accountAllTo(due);
    }
    this.#issuedAtLastCheck = issued;
    this.#scheduleCheck();
  }

  /** An announcement's number was heard. */
  #heardNumber(n: number): void {
    if (n <= this.#accountedTo) return;
    this.#heard.add(n);
    this.#advance();
  }

  /** Every number up to `n` is accounted for (a flush covered the unheard ones). */
  #accountAllTo(n: number): void {
    for (const h of this.#heard) if (h <= n) this.#heard.delete(h);
    this.#accountedTo = Math.max(this.#accountedTo, n);
    this.#advance();
  }

  /** Moves `#accountedTo` over the numbers heard right after it. */
  #advance(): void {
    while (this.#heard.delete(this.#accountedTo + 1)) this.#accountedTo += 1;
  }

  #flushAll(): void {
    this.#epoch += 1;
    this.#all += 1;
    for (const subscriber of this.#subscribers.values()) subscriber.reset();
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
    if (bucket.startsWith(numberMark)) return this.#heardNumber(Number(bucket.slice(numberMark.length)));
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
