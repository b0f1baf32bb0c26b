/** API keys over HTTP: lifecycle, roles and permissions, expiry, bootstrap key rotation. */
import { describe, expect, it } from 'vitest';
import { untilTrue } from '../support/until.ts';
import { hashApiKey } from '../../src/services/auth/api-keys.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ inventory: false });

async function createKey(name: string, role: string, extra: Record<string, unknown> = {}) {
  const res = await world.server.request('/api/v1/auth/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, role, ...extra }),
  });
  return { res, body: (await res.json()) as Record<string, string | null> };
}

describe('/api/v1/auth/keys', () => {
  it('creates a key shown once, stores only its hash, and lists it without the secret', async () => {
    const { res, body } = await createKey('deploy-bot', 'operator');
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/v1/auth/keys/${body.id}`);
    expect(body).toMatchObject({ name: 'deploy-bot', role: 'operator', revoked_at: null, expires_at: null });
    expect(body.key).toMatch(/^cfk_[A-Za-z0-9_-]{43}$/);

    const { rows } = await world.sql.query('SELECT key_hash FROM api_keys WHERE id = $1', [body.id]);
    expect(rows[0].key_hash).toBe(hashApiKey(body.key!));

    const list = await world.server.request('/api/v1/auth/keys');
    const text = await list.text();
    expect(text).not.toContain(body.key!);
    expect(text).not.toContain('key_hash');
    const listed = JSON.parse(text) as { data: Array<Record<string, unknown>>; total: number };
    expect(listed.total).toBe(listed.data.length);
    expect(listed.data.map((k) => k.name)).toContain('deploy-bot');

    const one = await world.server.request(`/api/v1/auth/keys/${body.id}`);
    expect(await one.json()).toMatchObject({ id: body.id, name: 'deploy-bot' });
  });

  it('lets a new key authenticate, and enforces its role with a 403 naming the permission', async () => {
    const { body } = await createKey('reader', 'viewer');
    const res = await world.server.request('/api/v1/auth/keys', { auth: body.key! });
    expect(res.status).toBe(403);
    const error = (await res.json()) as { code: string; message: string };
    expect(error.code).toBe('CF_ERR_FORBIDDEN');
    expect(error.message).toContain('keys.manage');
    expect(error.message).toContain('viewer');
  });

  it('401 with WWW-Authenticate for missing, malformed and unknown credentials', async () => {
    for (const authorization of [undefined, 'Basic Zm9vOmJhcg==', 'Bearer cfk_unknown']) {
      const res = await fetch(`${world.server.url}/api/v1/auth/keys`, {
        headers: authorization ? { authorization } : {},
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="certfleet"');
      expect(((await res.json()) as { code: string }).code).toBe('CF_ERR_UNAUTHENTICATED');
    }
  });

  it('revokes: 204, the key stops working at once, revoking again is still 204', async () => {
    const { body } = await createKey('short-lived', 'admin');
    expect((await world.server.request('/api/v1/auth/keys', { auth: body.key! })).status).toBe(200);
    expect((await world.server.request(`/api/v1/auth/keys/${body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await world.server.request('/api/v1/auth/keys', { auth: body.key! })).status).toBe(401);
    expect((await world.server.request(`/api/v1/auth/keys/${body.id}`, { method: 'DELETE' })).status).toBe(204);
    const listed = (await (await world.server.request('/api/v1/auth/keys')).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((k) => k.id)).not.toContain(body.id);
    const all = (await (await world.server.request('/api/v1/auth/keys?include_revoked=true')).json()) as {
      data: Array<{ id: string; revoked_at: string | null }>;
    };
    expect(all.data.find((k) => k.id === body.id)?.revoked_at).toBeTruthy();
  });

  it('404 for unknown ids; 409 for a duplicate live name; the name is free again after revocation', async () => {
    expect((await world.server.request('/api/v1/auth/keys/ak-missing')).status).toBe(404);
    expect((await world.server.request('/api/v1/auth/keys/ak-missing', { method: 'DELETE' })).status).toBe(404);
    const first = await createKey('unique-name', 'viewer');
    const dup = await createKey('unique-name', 'viewer');
    expect(dup.res.status).toBe(409);
    expect(dup.body.code).toBe('CF_ERR_CONFLICT');
    await world.server.request(`/api/v1/auth/keys/${first.body.id}`, { method: 'DELETE' });
    expect((await createKey('unique-name', 'viewer')).res.status).toBe(201);
  });

  it('refuses agent keys here and expiry in the past', async () => {
    const agent = await createKey('an-agent', 'agent');
    expect(agent.res.status).toBe(400);
    expect(agent.body.message).toMatch(/^role: agent keys/);
    const past = await createKey('old', 'viewer', { expires_at: '2000-01-01T00:00:00Z' });
    expect(past.res.status).toBe(400);
    expect(past.body.message).toMatch(/^expires_at/);
    const garbage = await createKey('old', 'viewer', { expires_at: 'tomorrow' });
    expect(garbage.res.status).toBe(400);
  });

  it('rejects an expired key', async () => {
    const expiresAt = Date.now() + 1500;
    const { body } = await createKey('expiring', 'admin', { expires_at: new Date(expiresAt).toISOString() });
    expect((await world.server.request('/api/v1/auth/keys', { auth: body.key! })).status).toBe(200);
    await untilTrue('the key to be refused', async () => (await world.server.request('/api/v1/auth/keys', { auth: body.key! })).status === 401, {
      timeoutMs: 5_000,
    });
    // Refused once expired, and not before.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
  });
});
