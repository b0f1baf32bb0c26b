import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryLogger } from '../../test/support/memory-log.ts';
import { Loop } from './loop.ts';
import { SingletonLoops } from './singleton-loops.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const { log } = memoryLogger();
const loop = (name: string, run: () => Promise<void> = async () => undefined) => new Loop({ name, intervalMs: 60_000, jitter: 0, log, run });

describe('SingletonLoops', () => {
  it('refuses a loop added after it was sealed (it would never run) and a name twice', () => {
    const loops = new SingletonLoops().add(loop('a'));
    expect(() => loops.add(loop('a'))).toThrow(/twice/);
    loops.seal();
    expect(() => loops.add(loop('late'))).toThrow(/after the scheduler was sealed/);
    expect(() => new SingletonLoops().add(loop('b')).lead(true)).toThrow(/sealed before/);
  });

  it('runs loops only while leading; run-now requests start a tick or are skipped while one runs', async () => {
    let ticks = 0;
    const slow = loop('slow', async () => {
      ticks++;
      await new Promise((r) => setTimeout(r, 1_000));
    });
    const loops = new SingletonLoops().add(slow).seal();
    expect(loops.trigger('slow')).toBe('ignored'); // not the leader
    loops.lead(true);
    expect(loops.trigger('nope')).toBe('ignored');
    expect(loops.trigger('slow')).toBe('started');
    expect(loops.trigger('slow')).toBe('skipped');
    await vi.advanceTimersByTimeAsync(1_500);
    expect(ticks).toBe(1);
    expect(slow.skips).toBe(1);
    loops.lead(false);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(ticks).toBe(1);
    expect(loops.trigger('slow')).toBe('ignored');
    await loops.stop(100);
  });
});
