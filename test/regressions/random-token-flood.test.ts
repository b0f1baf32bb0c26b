/**
 * Issue 12, finding 6: 300,000 requests with random bearer tokens grew RSS from 188 to 351 MB
 * (every miss was cached like a key, up to 1M entries) and wrote ~100 MB of 401 lines. Unknown
 * tokens now live in a small, short negative cache, and repeated 401 lines are sampled.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ env: { CERTFLEET_AUTH_NEGATIVE_CACHE_ENTRIES: '100' }, inventory: false });

const gauge = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${world.server.url}/metrics`)).text())?.[1]);

it('keeps unknown tokens bounded, samples their 401 lines, and still serves real keys', async () => {
  const before = world.server.logLines.length;
  for (let round = 0; round < 20; round++) {
    const statuses = await Promise.all(
      Array.from({ length: 100 }, async () => (await world.server.request('/api/v1/teams', { auth: `cfk_${randomBytes(24).toString('base64url')}` })).status),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
  }
  expect(await gauge('certfleet_auth_cache_unknown_tokens')).toBeLessThanOrEqual(100);
  expect(await gauge('certfleet_auth_cache_keys')).toBeLessThanOrEqual(1);
  const lines401 = world.server.logLines.slice(before).filter((l) => l.includes('CF_ERR_UNAUTHENTICATED'));
  expect(lines401.length).toBeLessThanOrEqual(20);
  expect((await world.server.request('/api/v1/teams')).status).toBe(200);
});
