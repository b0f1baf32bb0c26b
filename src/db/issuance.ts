/** What issuance reads (one round trip) and writes (one transaction). */
import type { CertificateRow } from './certificates.ts';
import type { Pool } from './pool.ts';
import { withTransaction } from './sql.ts';

/** The `config` of a local issuer (validated by its connector on write). */
export interface LocalIssuerConfig {
  ca_common_name?: string;
  validity_days?: number;
  ca_key_algorithm?: 'ECDSA-P256' | 'ECDSA-P384' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';
}

export interface IssuanceContext {
  certificate_id: string;
  status: string;
  common_name: string;
  sans: string[];
  issuer_id: string;
  issuer_type: string;
  issuer_enabled: boolean;
  issuer_config: LocalIssuerConfig;
  profile_id: string | null;
  profile_enabled: boolean | null;
  allowed_key_algorithms: Array<{ algorithm: string; min_size?: number }> | null;
  allowed_ekus: string[] | null;
  san_patterns: string[] | null;
  max_ttl_seconds: number | null;
}

export interface NewVersion {
  id: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
  pemChain: string;
  csrPem: string;
  keyAlgorithm: string;
  keySize: number;
}

export interface IssuanceRepository {
  context(certificateId: string): Promise<IssuanceContext | undefined>;
  /** The issuer's config when it is a local issuer; undefined otherwise. */
  localIssuer(issuerId: string): Promise<LocalIssuerConfig | undefined>;
  /** Stores the version and makes the certificate Active; undefined if it became Archived/Revoked meanwhile. */
  recordIssued(certificateId: string, version: NewVersion): Promise<CertificateRow['status'] | undefined>;
}

export function createIssuanceRepository(pool: Pool): IssuanceRepository {
  return {
    async context(certificateId) {
      const { rows } = await pool.query<IssuanceContext>(
        `SELECT c.id AS certificate_id, c.status, c.common_name, c.sans,
                i.id AS issuer_id, i.type AS issuer_type, i.enabled AS issuer_enabled, i.config AS issuer_config,
                p.id AS profile_id, p.enabled AS profile_enabled, p.allowed_key_algorithms, p.allowed_ekus,
                p.san_patterns, p.max_ttl_seconds
           FROM certificates c
           JOIN issuers i ON i.id = c.issuer_id
           LEFT JOIN certificate_profiles p ON p.id = c.certificate_profile_id
          WHERE c.id = $1`,
        [certificateId],
      );
      return rows[0];
    },

    async localIssuer(issuerId) {
      const { rows } = await pool.query<{ config: LocalIssuerConfig }>(
        "SELECT config FROM issuers WHERE id = $1 AND type = 'local'",
        [issuerId],
      );
      return rows[0]?.config;
    },

    recordIssued(certificateId, v) {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ status: CertificateRow['status'] }>(
          `UPDATE certificates SET status = 'Active', expires_at = $2, last_renewal_at = now(), updated_at = now()
            WHERE id = $1 AND status NOT IN ('Archived', 'Revoked') RETURNING status`,
          [certificateId, v.notAfter],
        );
        if (!rows[0]) return undefined;
        // The certificate's open issuance/renewal job, if any, is done.
        await client.query(
          `UPDATE jobs SET status = 'Completed', attempts = attempts + 1, completed_at = now(), updated_at = now()
            WHERE certificate_id = $1 AND type IN ('Issuance', 'Renewal') AND status IN ('Pending', 'AwaitingCSR', 'Running')`,
          [certificateId],
        );
        await client.query(
          `INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256,
                                             pem_chain, csr_pem, key_algorithm, key_size)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [v.id, certificateId, v.serialNumber, v.notBefore, v.notAfter, v.fingerprint, v.pemChain, v.csrPem, v.keyAlgorithm, v.keySize],
        );
        return rows[0].status;
      });
    },
  };
}
