/**
 * Leader election for singleton loops, through PostgreSQL: the replica holding a session-level
 * advisory lock on its own dedicated connection leads. No home-made consensus: PostgreSQL
 * releases the lock when that session ends (a crashed or killed replica's connection closes).
 *
 * - Not leading: try `pg_try_advisory_lock` every `retryMs`.
 * - Leading: check the connection every `retryMs` (`SELECT 1`); if it fails or closes, leadership
 *   is lost at once (`onChange(false)`: the singleton loops stop) and the replica retries. So a
 *   replica whose session was cut stops leading within one interval, and another takes over at
 *   its next attempt: failover within two intervals.
 */
import { openDedicatedSession, type DedicatedSession } from '../db/dedicated-session.ts';
import type { Logger } from '../observability/logger.ts';

/** 'certfleet' in ASCII, as a bigint key no other application is likely to use. */
export const leaderLockKey = '0x6365727466';

export interface LeaderLockOptions {
  connectionString: string;
  retryMs: number;
  log: Logger;
  onChange: (leading: boolean) => void;
  /**
   * NOTIFY channels this connection LISTENs to; payloads reach `onNotification` only while
   * leading (requests for the leader, e.g. run-now, sent from any replica).
   */
  channels?: readonly string[];
  onNotification?: (channel: string, payload: string) => void;
}

export class LeaderLock {
  readonly #o: LeaderLockOptions;
  #client: DedicatedSession | undefined;
  #leading = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: LeaderLockOptions) {
    this.#o = options;
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#tick();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      const client = await this.#connection();
      if (this.#leading) {
        await client.query('SELECT 1');
      } else {
        const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${leaderLockKey}) AS ok`);
        if (rows[0]?.ok) this.#set(true);
      }
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'leader lock connection failed');
      this.#drop();
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.#tick(), this.#o.retryMs);
      this.#timer.unref();
    }
  }

  async #connection(): Promise<DedicatedSession> {
    if (this.#client) return this.#client;
    // The session may be lost before openDedicatedSession's caller resumes (the database stops
    // right after accepting it): remember that instead of reaching for a session not yet held.
    const opened: { session?: DedicatedSession; lostEarly?: boolean } = {};
    const session = await openDedicatedSession({
      connectionString: this.#o.connectionString,
      applicationName: 'certfleet-leader',
      onLost: () => {
        if (!opened.session) opened.lostEarly = true;
        else if (this.#client === opened.session) this.#drop();
      },
      onNotification: (channel, payload) => {
        if (this.#leading) this.#o.onNotification?.(channel, payload);
      },
    });
    opened.session = session;
    if (opened.lostEarly) {
      await session.end();
      throw new Error('the leader session ended as it opened');
    }
    this.#client = session;
    for (const channel of this.#o.channels ?? []) await session.listen(channel);
    return session;
  }

  /** The session is gone (or unusable): so is the lock. */
  #drop(): void {
    const client = this.#client;
    this.#client = undefined;
    if (client) void client.end();
    this.#set(false);
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#o.log.info({ leading }, leading ? 'became the leader: singleton loops start' : 'no longer the leader: singleton loops stop');
    this.#o.onChange(leading);
  }

  /** Stops trying; ending the session releases the lock for another replica. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#set(false);
    if (client) await client.end();
  }
}
