import { describe, expect, it } from 'vitest';
import type { ApiKeyRepository } from '../../db/api-keys.ts';
import type { ApiKeyRow } from '../../domain/api-keys.ts';
import { createLogger } from '../../observability/logger.ts';
import type { AuditWriter } from '../audit/writer.ts';
import { ApiKeyService, hashApiKey } from './api-keys.ts';

/** An in-memory repository that records every batched lookup. */
function memoryRepo(secrets: string[]) {
  const rows = new Map<string, ApiKeyRow>(
    secrets.map((s, i) => [
      hashApiKey(s),
      {
        id: `ak-${i}`,
        name: `k${i}`,
        role: 'agent',
        key_hash: hashApiKey(s),
        created_at: new Date(0),
        last_used_at: null,
        expires_at: null,
        revoked_at: null,
        agent_id: `agent-${i}`,
      },
    ]),
  );
  const lookups: number[] = [];
  const repo = {
    findByHashes: async (hashes: readonly string[]) => {
      lookups.push(hashes.length);
      return hashes.flatMap((h) => (rows.has(h) ? [{ ...rows.get(h)! }] : []));
    },
    touchLastUsed: async () => undefined,
  } as unknown as ApiKeyRepository;
  return { repo, rows, lookups };
}

const log = createLogger({ level: 'silent' });
/** These tests only authenticate: nothing is created or revoked, so nothing is audited. */
const audit = {} as AuditWriter;
const tick = () => new Promise((r) => setImmediate(r));

describe('API key authentication cache', () => {
  it('answers concurrent misses with one batched query', async () => {
    const secrets = Array.from({ length: 300 }, (_, i) => `cfk_secret-${i}`);
    const { repo, lookups } = memoryRepo(secrets);
    const service = new ApiKeyService({ repo, log, audit });
    const principals = await Promise.all([...secrets, ...secrets, 'cfk_unknown'].map((s) => service.authenticate(s)));
    expect(lookups).toEqual([301]);
    expect(principals.slice(0, 300).map((p) => p?.agentId)).toEqual(secrets.map((_, i) => `agent-${i}`));
    expect(principals[600]).toBeUndefined();
    await service.close();
  });

  it('refreshes in the background after its drawn share of the TTL (50-90%), and waits only after the full TTL', async () => {
    let now = 0;
    const { repo, rows, lookups } = memoryRepo(['cfk_a']);
    const service = new ApiKeyService({ repo, log, audit, now: () => now, random: () => 0.5, cacheTtlMs: 30_000 }); // refresh after 70%
    expect(await service.authenticate('cfk_a')).toBeDefined();
    now = 20_000;
    await service.authenticate('cfk_a');
    expect(lookups).toHaveLength(1); // fresh: no query
    now = 22_000;
    rows.get(hashApiKey('cfk_a'))!.revoked_at = new Date(now); // revoked on another replica
    expect(await service.authenticate('cfk_a')).toBeDefined(); // served from cache, refresh queued
    await tick();
    await tick();
    expect(lookups).toHaveLength(2);
    expect(await service.authenticate('cfk_a')).toBeUndefined(); // the refresh saw the revocation
    now = 100_000;
    await service.authenticate('cfk_a');
    expect(lookups).toHaveLength(3); // expired: a blocking lookup
    await service.close();
  });

  it('drops the oldest entries when full, never the whole cache', async () => {
    const secrets = Array.from({ length: 5 }, (_, i) => `cfk_s${i}`);
    const { repo, lookups } = memoryRepo(secrets);
    const service = new ApiKeyService({ repo, log, audit, cacheEntries: 3 });
    for (const s of secrets) await service.authenticate(s); // s0, s1 evicted
    lookups.length = 0;
    await service.authenticate('cfk_s4');
    await service.authenticate('cfk_s3');
    await service.authenticate('cfk_s2');
    expect(lookups).toEqual([]);
    await service.authenticate('cfk_s0');
    expect(lookups).toEqual([1]);
    await service.close();
  });

  describe('with a change feed', () => {
    /** Stands in for src/db/change-feed.ts: what ApiKeyService uses of it. */
    function feed() {
      let subscriber: { changed(id: string): void; reset(): void } | undefined;
      return {
        healthy: true,
        subscribe: (_prefix: string, s: typeof subscriber) => (subscriber = s),
        announce: (id: string) => subscriber!.changed(id),
        reconnect: () => subscriber!.reset(),
      };
    }

    it('evicts a key announced by any replica at once, and only that key', async () => {
      const changes = feed();
      const { repo, rows, lookups } = memoryRepo(['cfk_a', 'cfk_b']);
      const service = new ApiKeyService({ repo, log, audit, changes });
      await Promise.all([service.authenticate('cfk_a'), service.authenticate('cfk_b')]);
      rows.get(hashApiKey('cfk_a'))!.revoked_at = new Date(); // revoked on another replica...
      expect(await service.authenticate('cfk_a')).toBeDefined(); // ...not announced yet: cached
      changes.announce('ak-0');
      expect(await service.authenticate('cfk_a')).toBeUndefined();
      expect(await service.authenticate('cfk_b')).toBeDefined();
      expect(lookups).toEqual([2, 1]);
      changes.reconnect(); // announcements may have been missed: everything is read again
      await service.authenticate('cfk_b');
      expect(lookups).toEqual([2, 1, 1]);
      await service.close();
    });

    it('keeps nothing from a lookup that an announcement overtook', async () => {
      const changes = feed();
      const { repo, lookups } = memoryRepo(['cfk_a']);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const findByHashes = repo.findByHashes.bind(repo);
      repo.findByHashes = async (hashes) => {
        const rows = await findByHashes(hashes); // read before the change committed...
        await gate; // ...and answered after it was announced
        return rows;
      };
      const service = new ApiKeyService({ repo, log, audit, changes });
      const first = service.authenticate('cfk_a');
      await tick();
      expect(lookups).toEqual([1]);
      changes.announce('ak-0');
      release();
      expect(await first).toBeDefined(); // the request that waited gets the answer it asked for
      await service.authenticate('cfk_a');
      expect(lookups).toEqual([1, 1]);
      await service.close();
    });

    it('trusts an entry for minutes while the feed is up (its announcements evict it), 30 s without a feed', async () => {
      let now = 0;
      const watched = memoryRepo(['cfk_a']);
      const withFeed = new ApiKeyService({ repo: watched.repo, log, audit, changes: feed(), now: () => now, random: () => 0 });
      const unwatched = memoryRepo(['cfk_a']);
      const withoutFeed = new ApiKeyService({ repo: unwatched.repo, log, audit, now: () => now, random: () => 0 });
      await withFeed.authenticate('cfk_a');
      await withoutFeed.authenticate('cfk_a');
      now = 31_000;
      await withFeed.authenticate('cfk_a');
      await withoutFeed.authenticate('cfk_a');
      expect(watched.lookups).toEqual([1]); // not even a refresh: that starts at half the TTL
      expect(unwatched.lookups).toEqual([1, 1]);
      now = 301_000; // past half of 10 minutes: refreshed in the background, answered from memory
      expect(await withFeed.authenticate('cfk_a')).toBeDefined();
      await tick();
      expect(watched.lookups).toEqual([1, 1]);
      await withFeed.close();
      await withoutFeed.close();
    });

    it('trusts entries for only fallbackTtlMs while the feed is down', async () => {
      let now = 0;
      const changes = feed();
      const { repo, lookups } = memoryRepo(['cfk_a']);
      const service = new ApiKeyService({ repo, log, audit, changes, now: () => now, fallbackTtlMs: 1_000 });
      await service.authenticate('cfk_a');
      now = 5_000;
      await service.authenticate('cfk_a');
      expect(lookups).toEqual([1]); // up: the long TTL holds
      changes.healthy = false;
      now = 6_500;
      await service.authenticate('cfk_a');
      expect(lookups).toEqual([1, 1]);
      await service.close();
    });
  });
});
