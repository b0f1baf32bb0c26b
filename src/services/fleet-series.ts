/**
 * Certificate and agent series for /metrics, the ones operators alert on: certificates by
 * issuer, status and time to expiry (`certfleet_certificates`), agents by status
 * (`certfleet_agents`). Counting a million certificates is a scan (1.2 s on the reference machine), so it
 * runs at most once per `maxAgeMs` (CERTFLEET_FLEET_METRICS_INTERVAL_SECONDS, default 60 s), in the background: a scrape reads the last counts and,
 * if they are older, starts a refresh. The first scrape after start has none yet.
 */
import type { AgentCount, CertificateCount, FleetCountsRepository } from '../db/fleet-counts.ts';
import type { Logger } from '../observability/logger.ts';

export interface FleetCounts {
  certificates: CertificateCount[];
  agents: AgentCount[];
  /** When they were counted (ms since the epoch). */
  countedAt: number;
}

export class FleetSeries {
  readonly #repo: FleetCountsRepository;
  readonly #log: Logger;
  readonly #maxAgeMs: number;
  #last: FleetCounts | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(options: { repo: FleetCountsRepository; log: Logger; maxAgeMs?: number }) {
    this.#repo = options.repo;
    this.#log = options.log;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /** The last counts (undefined before the first), starting a refresh when they are stale. */
  current(): FleetCounts | undefined {
    if (!this.#last || Date.now() - this.#last.countedAt >= this.#maxAgeMs) void this.refresh();
    return this.#last;
  }

  /** Counts now (one refresh at a time); a failure is logged, the last counts stay. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const [certificates, agents] = await Promise.all([this.#repo.certificates(), this.#repo.agents()]);
        this.#last = { certificates, agents, countedAt: Date.now() };
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'counting certificates and agents for /metrics failed; the last counts stay');
      }
    })().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }
}
