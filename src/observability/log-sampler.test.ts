import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/support/memory-log.ts';
import { LogSampler } from './log-sampler.ts';

describe('LogSampler', () => {
  it('admits the first N per window and summarises the rest once', () => {
    let now = 0;
    const { log, lines } = memoryLogger('info');
    const sampler = new LogSampler({ log, what: 'unauthenticated requests', perWindow: 3, windowMs: 1000, now: () => now });
    const admitted = Array.from({ length: 10 }, () => sampler.admit());
    expect(admitted).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(lines).toHaveLength(0);
    now = 1000;
    expect(sampler.admit()).toBe(true);
    expect(lines.map((l) => JSON.parse(l) as { suppressed: number; msg: string })).toMatchObject([
      { suppressed: 7, msg: 'unauthenticated requests: more lines suppressed' },
    ]);
  });
});
