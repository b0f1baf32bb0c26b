import { describe, expect, it } from 'vitest';
import type { AcmeAccountRow } from '../domain/acme.ts';
import { AcmeAccountCache } from './account-cache.ts';

type Subscriber = { changed(subject: string): void; reset(): void };

function setup(options: { healthy?: boolean } = {}) {
  const lookups: string[] = [];
  let subscriber: Subscriber | undefined;
  const rows = new Map<string, AcmeAccountRow>([['acct-1', { id: 'acct-1', status: 'valid' } as AcmeAccountRow]]);
  let now = 0;
  const changes = { healthy: options.healthy ?? true, subscribe: (_prefix: string, s: Subscriber) => (subscriber = s) };
  const cache = new AcmeAccountCache({
    lookup: async (id) => {
      lookups.push(id);
      return rows.get(id);
    },
    changes,
    now: () => now,
  });
  return {
    cache,
    lookups,
    rows,
    changes,
    announce: (id: string) => subscriber!.changed(id),
    reset: () => subscriber!.reset(),
    advance: (ms: number) => (now += ms),
  };
}

describe('AcmeAccountCache', () => {
  it('looks an account up once while the change feed is up, and again once its change is announced', async () => {
    const t = setup();
    await t.cache.accountById('acct-1');
    await t.cache.accountById('acct-1');
    expect(t.lookups).toEqual(['acct-1']);
    t.rows.set('acct-1', { id: 'acct-1', status: 'deactivated' } as AcmeAccountRow);
    t.announce('acct-1');
    expect((await t.cache.accountById('acct-1'))?.status).toBe('deactivated');
    expect(t.lookups).toEqual(['acct-1', 'acct-1']);
  });

  it('never remembers an unknown id (an account made on another replica works at once)', async () => {
    const t = setup();
    expect(await t.cache.accountById('acct-2')).toBeUndefined();
    t.rows.set('acct-2', { id: 'acct-2', status: 'valid' } as AcmeAccountRow);
    expect((await t.cache.accountById('acct-2'))?.id).toBe('acct-2');
  });

  it('keeps nothing a lookup read before an announcement it overlapped', async () => {
    const t = setup();
    const reading = t.cache.accountById('acct-1'); // in flight, read the old row
    t.announce('acct-1');
    await reading;
    await t.cache.accountById('acct-1');
    expect(t.lookups).toEqual(['acct-1', 'acct-1']);
  });

  it('trusts an entry 1 s at most while the feed is down, and drops everything when it reconnects', async () => {
    const t = setup({ healthy: false });
    await t.cache.accountById('acct-1');
    t.advance(500);
    await t.cache.accountById('acct-1');
    expect(t.lookups).toHaveLength(1);
    t.advance(600);
    await t.cache.accountById('acct-1');
    expect(t.lookups).toHaveLength(2);
    t.changes.healthy = true;
    t.reset();
    await t.cache.accountById('acct-1');
    expect(t.lookups).toHaveLength(3);
  });
});
