/**
 * ACME rate limits, cluster-wide: the state of every limit is a PostgreSQL row (GCRA), so N
 * replicas enforce one limit and a restart forgets nothing (certctl's were per process, and
 * sent no Retry-After). A limit allows a burst of its hourly count, then refills evenly. A
 * refusal is 429 rateLimited with Retry-After in seconds and a detail naming the limit.
 */
import type { AcmeServerRepository } from '../db/acme-server.ts';
import { AcmeProblems } from './problems.ts';

export interface AcmeRateLimitSettings {
  /** New accounts one IP address may create per hour; 0: no limit. */
  newAccountsPerIpPerHour: number;
  /** Key changes one account may make per hour; 0: no limit. */
  keyChangesPerAccountPerHour: number;
  /** New orders one account may place per hour, renewals (ARI replaces) exempt; 0: no limit. */
  newOrdersPerAccountPerHour: number;
  /** Failed validations of one name by one account per hour, then its new orders wait; 0: no limit. */
  failedValidationsPerIdentifierPerHour: number;
}

const hourMs = 3_600_000;

const limits = {
  newAccountsPerIp: { setting: 'newAccountsPerIpPerHour', what: (key: string) => `new accounts from ${key}` },
  keyChangesPerAccount: { setting: 'keyChangesPerAccountPerHour', what: (key: string) => `key changes of account ${key}` },
  newOrdersPerAccount: { setting: 'newOrdersPerAccountPerHour', what: (key: string) => `new orders of account ${key}` },
  failedValidationsPerIdentifier: {
    setting: 'failedValidationsPerIdentifierPerHour',
    what: (key: string) => `failed validations of ${key.slice(key.indexOf(':') + 1)} by this account`,
  },
} as const satisfies Record<string, { setting: keyof AcmeRateLimitSettings; what: (key: string) => string }>;

export type AcmeLimit = keyof typeof limits;

export class AcmeRateLimits {
  readonly #repo: Pick<AcmeServerRepository, 'rateLimit' | 'rateLimitWait'>;
  readonly #settings: AcmeRateLimitSettings;

  constructor(options: { repo: Pick<AcmeServerRepository, 'rateLimit' | 'rateLimitWait'>; settings: AcmeRateLimitSettings }) {
    this.#repo = options.repo;
    this.#settings = options.settings;
  }

  /** Takes one request from `limit`'s bucket for `key`, or throws rateLimited. */
  async take(limit: AcmeLimit, key: string): Promise<void> {
    const rule = limits[limit];
    const perHour = this.#settings[rule.setting];
    if (perHour <= 0) return;
    const result = await this.#repo.rateLimit(limit, key, hourMs / perHour, hourMs);
    if (!result.admitted) throw refusal(rule.what(key), perHour, result.retryAfterSeconds);
  }

  /** Counts one event against `limit` for `key` without refusing anything (a failed validation). */
  async count(limit: AcmeLimit, key: string): Promise<void> {
    const perHour = this.#settings[limits[limit].setting];
    if (perHour > 0) await this.#repo.rateLimit(limit, key, hourMs / perHour, hourMs);
  }

  /** Throws rateLimited when `limit`'s bucket for `key` is empty, without taking from it. */
  async check(limit: AcmeLimit, key: string): Promise<void> {
    const rule = limits[limit];
    const perHour = this.#settings[rule.setting];
    if (perHour <= 0) return;
    const waitSeconds = await this.#repo.rateLimitWait(limit, key, hourMs / perHour, hourMs);
    if (waitSeconds > 0) throw refusal(rule.what(key), perHour, waitSeconds);
  }
}

function refusal(what: string, perHour: number, retryAfterSeconds: number) {
  const at = new Date(Date.now() + retryAfterSeconds * 1000).toISOString();
  return AcmeProblems.rateLimited(`too many ${what}: the limit is ${perHour} per hour; retry after ${retryAfterSeconds} s (${at})`, retryAfterSeconds);
}
