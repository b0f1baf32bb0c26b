/**
 * The singleton loops of a replica: they run only while it holds the leader lock. The set is
 * fixed before the replica can lead: add() after seal() throws. (certctl registered its ACME GC
 * loop after its scheduler had started, so that loop never ran; here such wiring fails at start.)
 *
 * Run-now requests (POST /api/v1/scheduler/loops/{name}/run) may reach any replica: they travel
 * as a PostgreSQL NOTIFY on `runNowChannel`, which the leader LISTENs to on its lock connection
 * (src/scheduler/leader.ts), and become trigger(): skipped while that loop's tick runs.
 */
import type { Loop } from './loop.ts';

export const runNowChannel = 'certfleet_loop_run';

export class SingletonLoops {
  readonly #loops = new Map<string, Loop>();
  #sealed = false;
  #leading = false;

  add(loop: Loop): this {
    if (this.#sealed) throw new Error(`singleton loop ${loop.name} added after the scheduler was sealed: it would never run`);
    if (this.#loops.has(loop.name)) throw new Error(`singleton loop ${loop.name} added twice`);
    this.#loops.set(loop.name, loop);
    return this;
  }

  /** No more loops: from now on leadership may start them. */
  seal(): this {
    this.#sealed = true;
    return this;
  }

  get loops(): readonly Loop[] {
    return [...this.#loops.values()];
  }

  has(name: string): boolean {
    return this.#loops.has(name);
  }

  /** Leadership changed: start every loop, or stop them (each waits up to 1 s for its tick). */
  lead(leading: boolean): void {
    if (!this.#sealed) throw new Error('singleton loops must be sealed before they can lead');
    this.#leading = leading;
    for (const loop of this.#loops.values()) {
      if (leading) loop.start();
      else void loop.stop(1_000);
    }
  }

  /** A run-now request reached this replica (the leader): 'started' or 'skipped'; 'ignored' elsewhere. */
  trigger(name: string): 'started' | 'skipped' | 'ignored' {
    const loop = this.#loops.get(name);
    if (!loop || !this.#leading) return 'ignored';
    return loop.trigger() ? 'started' : 'skipped';
  }

  async stop(timeoutMs: number): Promise<void> {
    this.#leading = false;
    await Promise.all([...this.#loops.values()].map((loop) => loop.stop(timeoutMs)));
  }
}
