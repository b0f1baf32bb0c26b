import { describe, expect, it } from 'vitest';
import { IssuedChains } from './issued-chains.ts';

describe('IssuedChains', () => {
  it('keeps at most maxEntries chains, dropping the oldest first', () => {
    const chains = new IssuedChains(3);
    for (const id of ['o1', 'o2', 'o3', 'o4']) chains.set(id, `acct-${id}`, `chain of ${id}`);
    expect(chains.size).toBe(3);
    expect(chains.get('o1')).toBeUndefined();
    expect(chains.get('o4')).toEqual({ accountId: 'acct-o4', chain: 'chain of o4' });
  });
});
