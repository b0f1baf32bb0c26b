/**
 * A server whose CERTFLEET_ENCRYPTION_KEY cannot open the CA keys already in the database (a
 * replica started without the shared key) refuses to start, naming the variable, instead of
 * failing later at its first issuance ("cannot decrypt the CA key").
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedInventory } from '../support/fixtures.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { adminKey, testEncryptionKey } from '../support/server.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const configWith = (encryptionKey: string) =>
  loadConfig({
    DATABASE_URL: db.url,
    CERTFLEET_HOST: '127.0.0.1',
    CERTFLEET_PORT: '0',
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_ENCRYPTION_KEY: encryptionKey,
    CERTFLEET_WORKER_THREADS: '1',
  });

describe('CERTFLEET_ENCRYPTION_KEY at start', () => {
  it('refuses a key that cannot open the stored CA keys, and starts with the right one', async () => {
    // A first server's CA, its key sealed with testEncryptionKey (made as the first issuance makes it).
    const first = await startApp(configWith(testEncryptionKey), memoryLogger('warn').log);
    const inv = await seedInventory(db.url);
    const { LocalCaRegistry } = await import('../../src/services/pki/local-ca.ts');
    const { createCaKeyRepository } = await import('../../src/db/ca-keys.ts');
    const { createPool } = await import('../../src/db/pool.ts');
    const pool = createPool({ connectionString: db.url, max: 2, log: memoryLogger('warn').log });
    const registry = new LocalCaRegistry({ repo: createCaKeyRepository(pool), encryptionKey: Buffer.from(testEncryptionKey, 'hex'), publicUrl: first.url });
    await registry.get(inv.issuerId, { commonName: 'test CA', keyAlgorithm: 'ECDSA-P256' });
    await pool.end();
    await first.close();

    await expect(startApp(configWith(randomBytes(32).toString('hex')), memoryLogger('warn').log)).rejects.toThrow(
      /CERTFLEET_ENCRYPTION_KEY: this key cannot decrypt the CA keys stored in the database \(issuer iss-/,
    );
    const again = await startApp(configWith(testEncryptionKey), memoryLogger('warn').log);
    await again.close();
  });
});
