import { describe, expect, it } from 'vitest';
import type { HeartbeatEntry, HeartbeatOutcome } from '../../db/agents.ts';
import { HeartbeatBatcher } from './heartbeats.ts';

/** An in-memory repository that records each batch and can hold batches until released. */
function memoryRepo() {
  const batches: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let failNext: unknown;
  const repo = {
    async writeHeartbeats(entries: readonly HeartbeatEntry[]): Promise<HeartbeatOutcome> {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      batches.push(entries.map((e) => e.agentId));
      return { recorded: new Set(entries.map((e) => e.agentId).filter((id) => id !== 'retired')), cameOnline: [], metadataChanged: [], deferred: 0 };
    },
  };
  return { repo, batches, maxInFlight: () => maxInFlight, failOnce: (err: unknown) => (failNext = err) };
}

const agents = Array.from({ length: 64 }, (_, i) => `agent-${i}`);

describe('HeartbeatBatcher', () => {
  it('merges beats per agent and acknowledges each once its batch is written', async () => {
    const { repo, batches } = memoryRepo();
    const batcher = new HeartbeatBatcher({ repo, flushMs: 1, batchMax: 1000 });
    const results = await Promise.all([...agents, ...agents, 'retired'].map((id) => batcher.beat(id, undefined)));
    expect(results.filter(Boolean)).toHaveLength(128);
    expect(results.at(-1)).toBe(false); // retired: not recorded
    expect(batches.flat().sort()).toEqual([...agents, 'retired'].sort()); // one row per agent
    expect(batcher.heartbeats).toBe(128);
  });

  it('with lanes, writes batches concurrently and never puts one agent in two lanes', async () => {
    const { repo, batches, maxInFlight } = memoryRepo();
    const batcher = new HeartbeatBatcher({ repo, flushMs: 1, batchMax: 1000, lanes: 4 });
    await Promise.all(agents.map((id) => batcher.beat(id, undefined)));
    await Promise.all(agents.map((id) => batcher.beat(id, undefined)));
    expect(maxInFlight()).toBeGreaterThan(1);
    expect(batches.length).toBeGreaterThanOrEqual(8); // 4 lanes, twice
    const laneOf = new Map<string, number>();
    const firstRound = batches.slice(0, batches.length / 2);
    firstRound.forEach((batch, lane) => batch.forEach((id) => laneOf.set(id, lane)));
    // The second round groups agents exactly as the first did.
    const secondRound = batches.slice(batches.length / 2).map((b) => new Set(b.map((id) => laneOf.get(id))));
    expect(secondRound.every((lanes) => lanes.size === 1)).toBe(true);
  });

  it('retries a batch chosen as a deadlock victim, and rejects other errors', async () => {
    const { repo, failOnce } = memoryRepo();
    const batcher = new HeartbeatBatcher({ repo, flushMs: 1, batchMax: 1000 });
    failOnce(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    expect(await batcher.beat('agent-1', undefined)).toBe(true);
    failOnce(Object.assign(new Error('connection lost'), { code: '57P01' }));
    await expect(batcher.beat('agent-1', undefined)).rejects.toThrow(/connection lost/);
  });
});
