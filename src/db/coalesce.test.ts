import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.ts';

describe('coalesce', () => {
  it('runs a lone call at once, and calls arriving meanwhile together in the next batch, each with its own result', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const double = coalesce<number, number>(async (inputs) => {
      batches.push(inputs);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return inputs.map((n) => n * 2);
    });
    const first = double(1);
    const rest = [2, 3, 4].map((n) => double(n));
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...rest])).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('rejects every caller of a failed batch, then serves the next one', async () => {
    let fail = true;
    const echo = coalesce<number, number>(async (inputs) => {
      if (fail) throw new Error('database away');
      return inputs;
    }, 2);
    const failed = await Promise.allSettled([echo(1), echo(2), echo(3)]);
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected', 'rejected']);
    fail = false;
    expect(await echo(4)).toBe(4);
  });

  it('runs batches outside the async context of whoever started them (no caller lends its transaction)', async () => {
    const scope = new AsyncLocalStorage<string>();
    const seen: Array<string | undefined> = [];
    const spend = coalesce<number, number>(async (inputs) => {
      seen.push(scope.getStore());
      return inputs;
    });
    await scope.run('a caller unit of work', () => spend(1));
    expect(seen).toEqual([undefined]);
  });
});
