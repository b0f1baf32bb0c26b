/**
 * ACME account keys, one per issuer, the same on every replica: made on first use, stored in
 * instance_secrets encrypted (AES-256-GCM under CERTFLEET_ENCRYPTION_KEY, bound to its name).
 */
import { decryptSecret, encryptSecret } from '../pki/key-encryption.ts';
import { loadOrCreateSecret } from './instance-secrets.ts';
import type { Pool } from './pool.ts';

export async function loadAcmeAccountKey(pool: Pool, encryptionKey: Buffer, issuerId: string, create: () => string): Promise<string> {
  const name = `acme-account-key:${issuerId}`;
  const sealed = await loadOrCreateSecret(pool, name, () => encryptSecret(Buffer.from(create()), encryptionKey, name));
  return decryptSecret(sealed, encryptionKey, name).toString();
}
