import { describe, expect, it } from 'vitest';
import type { AcmeProfile } from '../domain/acme.ts';
import { AcmeProfiles } from './profiles.ts';

const profile = (description: string) => ({ name: 'trusted', description }) as unknown as AcmeProfile;

/** A change feed whose version the test moves, and a load whose answers the test releases. */
function harness() {
  let version = 1;
  const pending: Array<{ rows: () => AcmeProfile[]; resolve: (p: AcmeProfile[]) => void }> = [];
  let rows = [profile('old')];
  const profiles = new AcmeProfiles({
    changes: { healthy: true, version: () => version },
    load: () =>
      new Promise((resolve) => {
        const seen = rows; // what the database holds when the query runs
        pending.push({ rows: () => seen, resolve });
      }),
  });
  return {
    profiles,
    pending,
    change(description: string) {
      rows = [profile(description)];
      version += 1;
    },
  };
}

describe('AcmeProfiles', () => {
  it('never hands a caller after a change the load that started before it', async () => {
    const h = harness();
    const before = h.profiles.list(); // in flight, reading the old rows
    h.change('new'); // committed and announced: the next caller must see it
    const after = h.profiles.list();
    expect(h.pending).toHaveLength(2);
    h.pending[1]!.resolve(h.pending[1]!.rows());
    expect((await after)[0]!.description).toBe('new');
    // The older load finishing last does not put the old list back.
    h.pending[0]!.resolve(h.pending[0]!.rows());
    expect((await before)[0]!.description).toBe('old');
    expect((await h.profiles.list())[0]!.description).toBe('new');
    expect(h.pending).toHaveLength(2); // and that was answered from memory
  });

  it('shares one load among callers of the same version', async () => {
    const h = harness();
    const a = h.profiles.list();
    const b = h.profiles.list();
    expect(h.pending).toHaveLength(1);
    h.pending[0]!.resolve(h.pending[0]!.rows());
    expect(await a).toBe(await b);
  });
});
