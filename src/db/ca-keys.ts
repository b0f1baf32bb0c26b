import type { Pool } from './pool.ts';

export interface CaKeyRow {
  issuer_id: string;
  certificate_der: Buffer;
  private_key_encrypted: Buffer;
  key_algorithm: string;
}

export interface CaKeyRepository {
  get(issuerId: string): Promise<CaKeyRow | undefined>;
  /** One stored CA key, any (the start-up check that the encryption key opens them). */
  any(): Promise<CaKeyRow | undefined>;
  /** Stores the CA unless one exists already; returns the one that is stored (replicas race). */
  insertOrGet(row: CaKeyRow): Promise<CaKeyRow>;
}

export function createCaKeyRepository(pool: Pool): CaKeyRepository {
  const get = async (issuerId: string) =>
    (await pool.query<CaKeyRow>('SELECT issuer_id, certificate_der, private_key_encrypted, key_algorithm FROM ca_keys WHERE issuer_id = $1', [issuerId]))
      .rows[0];
  return {
    get,
    async any() {
      const { rows } = await pool.query<CaKeyRow>('SELECT issuer_id, certificate_der, private_key_encrypted, key_algorithm FROM ca_keys LIMIT 1');
      return rows[0];
    },
    async insertOrGet(row) {
      await pool.query(
        `INSERT INTO ca_keys (issuer_id, certificate_der, private_key_encrypted, key_algorithm)
         VALUES ($1, $2, $3, $4) ON CONFLICT (issuer_id) DO NOTHING`,
        [row.issuer_id, row.certificate_der, row.private_key_encrypted, row.key_algorithm],
      );
      return (await get(row.issuer_id))!;
    },
  };
}
