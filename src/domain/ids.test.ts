import { describe, expect, it } from 'vitest';
import { newId } from './ids.ts';

describe('newId', () => {
  it('is <prefix>-<12 hex ms><12 hex random>, time-ordered', () => {
    expect(newId('cert', 0x19ab3c4d5e6)).toMatch(/^cert-019ab3c4d5e6[0-9a-f]{12}$/);
    expect(newId('x', 1) < newId('x', 2)).toBe(true);
  });

  it('never repeats its random part across pool refills', () => {
    // 4 KiB pool = 682 ids per refill: 5,000 ids cross several refills.
    const suffixes = new Set(Array.from({ length: 5000 }, () => newId('t', 0).slice(-12)));
    expect(suffixes.size).toBe(5000);
  });
});
