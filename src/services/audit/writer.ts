/**
 * Group commit for audit events. append() resolves once the event's batch has committed, so a
 * request that must be audited is acknowledged only after its event is durable. At most one
 * batch is in flight per process: the first event after a quiet spell commits at once, and
 * events that arrive while a batch commits ride in the next one, so under load the number of
 * transactions tracks batches, not requests, and audit never serialises requests.
 */
import type { AuditRepository } from '../../db/audit.ts';
import type { Principal } from '../auth/permissions.ts';
import type { AuditCategory, AuditEvent, AuditEventInput } from './chain.ts';

interface Pending {
  input: AuditEventInput;
  resolve: (event: AuditEvent) => void;
  reject: (err: unknown) => void;
}

export interface AuditWriterOptions {
  repo: AuditRepository;
  /** Largest batch; default 500 events. */
  maxBatch?: number;
  now?: () => Date;
}

export class AuditWriter {
  readonly #repo: AuditRepository;
  readonly #maxBatch: number;
  readonly #now: () => Date;
  #queue: Pending[] = [];
  #inFlight: Promise<void> | undefined;
  /** Batches committed and events written, for /metrics and benchmarks. */
  batches = 0;
  events = 0;

  constructor(options: AuditWriterOptions) {
    this.#repo = options.repo;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#now = options.now ?? (() => new Date());
  }

  append(input: AuditEventInput): Promise<AuditEvent> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#inFlight) this.#inFlight = this.#drain();
    });
  }

  /** Records what `principal` did. The common shape of API-driven events. */
  record(
    principal: Principal | undefined,
    event: { action: string; resourceType: string; resourceId: string; category: AuditCategory; details?: Record<string, unknown> },
  ): Promise<AuditEvent> {
    return this.append({
      actor: principal?.keyId ?? 'system',
      actorType: principal ? (principal.role === 'agent' ? 'Agent' : 'APIKey') : 'System',
      action: event.action,
      resourceType: event.resourceType,
      resourceId: event.resourceId,
      category: event.category,
      details: principal ? { actor_name: principal.name, ...event.details } : { ...event.details },
    });
  }

  /** Resolves when every event appended so far has been committed (or has failed). */
  async flush(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const events = await this.#repo.appendBatch(
          batch.map((p) => p.input),
          this.#now(),
        );
        this.batches += 1;
        this.events += events.length;
        batch.forEach((p, i) => p.resolve(events[i]!));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.#inFlight = undefined;
  }
}
