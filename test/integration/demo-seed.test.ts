/** `certfleet seed --demo` and CERTFLEET_DEMO_SEED: a realistic inventory, added once. */
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { runCertfleet } from '../support/process.ts';
import { startTestServer } from '../support/server.ts';

describe('demo inventory', () => {
  it('seeds through the CLI once, idempotently, and serves it', async () => {
    const db = await createTestDatabase();
    const first = runCertfleet(['seed', '--demo'], { DATABASE_URL: db.url });
    expect(await first.exited).toBe(0);
    expect(first.stdout.join('\n')).toMatch(/demo inventory added \(6 certificates\)/);
    const again = runCertfleet(['seed', '--demo'], { DATABASE_URL: db.url });
    expect(await again.exited).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/already present/);
    await db.drop();
  });

  it('seeds at serve start with CERTFLEET_DEMO_SEED=true', async () => {
    const server = await startTestServer({ CERTFLEET_DEMO_SEED: 'true' });
    try {
      for (const [path, id] of [
        ['/api/v1/issuers', 'iss-local'],
        ['/api/v1/owners', 'o-alice'],
        ['/api/v1/teams', 't-platform'],
        ['/api/v1/renewal-policies', 'rp-standard'],
      ]) {
        expect((await server.request(`${path}/${id}`)).status, `${path}/${id}`).toBe(200);
      }
      const www = (await (await server.request('/api/v1/certificates/mc-www')).json()) as { target_ids: string[]; status: string };
      expect(www.status).toBe('Active');
      expect(www.target_ids).toHaveLength(3);
      const expiring = (await (await server.request('/api/v1/certificates?status=Expiring')).json()) as { total: number };
      expect(expiring.total).toBe(1);
      const audit = (await (await server.request('/api/v1/audit?action=demo_inventory_seeded')).json()) as { total: number };
      expect(audit.total).toBe(1);
    } finally {
      await server.close();
    }
  });
});
