/** ETag and If-None-Match on GET routes, over HTTP. */
import { describe, expect, it } from 'vitest';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ inventory: false });

describe('ETag', () => {
  it('sends a strong ETag and answers a matching If-None-Match with an empty 304', async () => {
    const first = await world.server.request('/api/v1/auth/keys');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await world.server.request('/api/v1/auth/keys', { headers: { 'if-none-match': header } });
      expect(res.status, header).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
      expect(await res.text()).toBe('');
    }
    const head = await world.server.request('/api/v1/auth/keys', { method: 'HEAD', headers: { 'if-none-match': etag } });
    expect(head.status).toBe(304);
  });

  it('answers 200 with a new ETag once the representation changes', async () => {
    const before = (await world.server.request('/api/v1/auth/keys')).headers.get('etag')!;
    await world.server.request('/api/v1/auth/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'etag-change', role: 'viewer' }),
    });
    const after = await world.server.request('/api/v1/auth/keys', { headers: { 'if-none-match': before } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(before);
  });

  it('leaves non-2xx responses untouched', async () => {
    const res = await world.server.request('/api/v1/auth/keys/ak-nope', { headers: { 'if-none-match': '*' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('etag')).toBeNull();
  });
});
