import { describe, expect, it } from 'vitest';
import { RecentEntries } from './recent-entries.ts';

describe('RecentEntries', () => {
  it('keeps at most maxEntries, dropping the oldest first', () => {
    const recent = new RecentEntries<string>(3);
    for (const id of ['o1', 'o2', 'o3', 'o4']) recent.set(id, `chain of ${id}`);
    expect(recent.size).toBe(3);
    expect(recent.get('o1')).toBeUndefined();
    expect(recent.get('o4')).toBe('chain of o4');
  });

  it('hands an entry out once with take', () => {
    const recent = new RecentEntries<number>(2);
    recent.set('a', 1);
    expect(recent.take('a')).toBe(1);
    expect(recent.take('a')).toBeUndefined();
    expect(recent.size).toBe(0);
  });
});
