import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate.ts';

describe('ConcurrencyGate', () => {
  it('caps per key and in total with 429s, and frees slots once each', () => {
    const gate = new ConcurrencyGate({ what: 'exports', total: 3, perKey: 2, retryAfterSeconds: 5 });
    const a1 = gate.enter('a');
    gate.enter('a');
    expect(() => gate.enter('a')).toThrow(expect.objectContaining({ kind: 'rateLimited', headers: { 'Retry-After': '5' } }));
    const b1 = gate.enter('b');
    expect(() => gate.enter('c')).toThrow(/on this server/);
    a1();
    a1(); // a second call frees nothing more
    expect(gate.running).toBe(2);
    gate.enter('c');
    b1();
    expect(gate.running).toBe(2);
  });
});
