import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentWorkWakeups } from './work-wakeups.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('AgentWorkWakeups', () => {
  it("wakes only the announced agent's polls, and keeps an announcement made before the sleep", async () => {
    const wakeups = new AgentWorkWakeups({ feedUp: () => true });
    const a = wakeups.watch('agent-a');
    const b = wakeups.watch('agent-b');
    expect(wakeups.waiting).toBe(2);
    wakeups.changed('agent-a'); // between the poll's query and its sleep
    expect(await a.until(30_000)).toBe('work');
    const sleepingB = b.until(30_000);
    wakeups.changed('agent-c');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(wakeups.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await sleepingB).toBe('timeout');
    expect({ waiting: wakeups.waiting, woken: wakeups.woken, timedOut: wakeups.timedOut }).toEqual({ waiting: 0, woken: 1, timedOut: 1 });
  });

  it('lets a poll go when its client leaves, or when it is cancelled unslept', async () => {
    const wakeups = new AgentWorkWakeups({ feedUp: () => true });
    const leaving = new AbortController();
    const sleeping = wakeups.watch('agent-a').until(30_000, leaving.signal);
    leaving.abort();
    expect(await sleeping).toBe('aborted');
    wakeups.watch('agent-a').cancel();
    expect(wakeups.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers every poll at shutdown and waits no more; waits only while the feed is up', async () => {
    let up = true;
    const wakeups = new AgentWorkWakeups({ feedUp: () => up });
    const sleeping = [wakeups.watch('agent-a').until(30_000), wakeups.watch('agent-a').until(30_000)];
    up = false;
    expect(wakeups.canWait).toBe(false);
    up = true;
    wakeups.reset(); // a reconnect wakes nobody: the herd would all query at once
    expect(wakeups.waiting).toBe(2);
    wakeups.close();
    expect(await Promise.all(sleeping)).toEqual(['closing', 'closing']);
    expect(wakeups.canWait).toBe(false);
    expect(await wakeups.watch('agent-a').until(30_000)).toBe('closing');
    expect(wakeups.waiting).toBe(0);
  });
});

describe('AgentWorkWakeups.admitted', () => {
  it('lets at most maxLooking woken polls look at once, the rest in arrival order', async () => {
    const wakeups = new AgentWorkWakeups({ feedUp: () => true, maxLooking: 2 });
    const order: number[] = [];
    let running = 0;
    let most = 0;
    const looks = Array.from({ length: 5 }, (_, i) =>
      wakeups.admitted(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(i);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
        if (i === 1) throw new Error('a failed look gives its turn back too');
        return i;
      }),
    );
    const settled = Promise.allSettled(looks);
    expect(wakeups.queued).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled).toMatchObject([{ value: 0 }, { status: 'rejected' }, { value: 2 }, { value: 3 }, { value: 4 }]);
    expect({ most, order, queued: wakeups.queued }).toEqual({ most: 2, order: [0, 1, 2, 3, 4], queued: 0 });
    expect(await wakeups.admitted(async () => 'free again')).toBe('free again');
  });
});
