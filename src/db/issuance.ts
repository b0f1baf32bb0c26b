/** What issuance reads (one round trip) and writes (one transaction). */
import { openIssuanceJob } from './open-jobs.ts';
import type { CertificateRow } from '../domain/certificates.ts';
import type { Pool } from './pool.ts';
import { sqlList, withTransaction } from './sql.ts';
import { issuedStatus, terminalCertificateStatuses } from '../domain/lifecycle.ts';

/** Issuance never reactivates a revoked or archived certificate. */
const terminal = sqlList(terminalCertificateStatuses);

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

/** What issuance needs of an issuer and profile, for a certificate not written yet. */
export type IssuerContext = Omit<IssuanceContext, 'certificate_id' | 'status' | 'common_name' | 'sans'>;

/** A certificate written once, already issued (ACME finalize): its row and its first version. */
export interface BornIssuedCertificate {
  id: string;
  name: string;
  common_name: string;
  sans: string[];
  owner_id: string;
  team_id: string;
  issuer_id: string;
  renewal_policy_id: string;
  certificate_profile_id: string | null;
  tags: Record<string, string>;
  source: 'ACME';
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
  /** Set when an agent's CSR produced this version: only that agent holds the key. */
  agentId?: string | undefined;
}

export interface IssuanceRepository {
  context(certificateId: string): Promise<IssuanceContext | undefined>;
  /** The issuer's and profile's part of `context`, before the certificate exists. */
  issuerContext(issuerId: string, profileId: string | null): Promise<IssuerContext | undefined>;
  /**
   * Inserts certificates already Active, each with its first version, in one statement: written
   * once, where an INSERT and then an UPDATE of the same row in one transaction re-checks its
   * five foreign keys and writes its 15 index entries twice.
   */
  insertIssued(entries: ReadonlyArray<{ certificate: BornIssuedCertificate; version: NewVersion }>): Promise<void>;
  /** The issuer's config when it is a local issuer; undefined otherwise. */
  localIssuer(issuerId: string): Promise<LocalIssuerConfig | undefined>;
  /**
   * Stores the version and, unless other agents serving the certificate still owe a CSR for its
   * open job, completes the job and makes the certificate Active. Undefined if the certificate
   * became Archived/Revoked meanwhile.
   */
  recordIssued(certificateId: string, version: NewVersion): Promise<CertificateRow['status'] | undefined>;
}

/**
 * Completes the open issuance/renewal jobs of these certificates that have at least one version
 * and no live agent serving the certificate still without one, and activates their certificates
 * (expires_at = the earliest notAfter among the job's leaves). `certificateIds` is an SQL text[]
 * expression. A job with a REST-submitted
 * (agent-less) version is complete at once: no agent is owed anything.
 */
export const completeCoveredJobsSql = (certificateIds: string) => `
  WITH done AS (
    UPDATE jobs j SET status = 'Completed', attempts = j.attempts + 1, completed_at = now(), updated_at = now()
     WHERE j.certificate_id = ANY(${certificateIds}) AND ${openIssuanceJob('j')}
       AND EXISTS (SELECT 1 FROM certificate_versions v WHERE v.job_id = j.id)
       AND (EXISTS (SELECT 1 FROM certificate_versions v WHERE v.job_id = j.id AND v.agent_id IS NULL)
            OR NOT EXISTS (
              SELECT 1 FROM certificate_target_mappings m
                JOIN deployment_targets t ON t.id = m.target_id AND t.enabled
                JOIN agents a ON a.id = t.agent_id AND a.retired_at IS NULL
               WHERE m.certificate_id = j.certificate_id
                 AND NOT EXISTS (SELECT 1 FROM certificate_versions v WHERE v.job_id = j.id AND v.agent_id = a.id)))
    RETURNING j.id, j.certificate_id
  )
  UPDATE certificates c SET status = '${issuedStatus}', last_renewal_at = now(), updated_at = now(),
         expires_at = (SELECT min(v.not_after) FROM certificate_versions v WHERE v.job_id = done.id)
    FROM done
   WHERE c.id = done.certificate_id AND c.status NOT IN ${terminal}
  RETURNING c.id, c.status`;

export function createIssuanceRepository(pool: Pool): IssuanceRepository {
  return {
    async context(certificateId) {
      // Named: planning it (certificates has an index per list sort and filter, each weighed by
      // the planner) cost 0.32 ms per issuance, four times its execution (pg_stat_statements).
      const { rows } = await pool.query<IssuanceContext>({
        name: 'issuance-context',
        text: `SELECT c.id AS certificate_id, c.status, c.common_name, c.sans,
                i.id AS issuer_id, i.type AS issuer_type, i.enabled AS issuer_enabled, i.config AS issuer_config,
                p.id AS profile_id, p.enabled AS profile_enabled, p.allowed_key_algorithms, p.allowed_ekus,
                p.san_patterns, p.max_ttl_seconds
           FROM certificates c
           JOIN issuers i ON i.id = c.issuer_id
           LEFT JOIN certificate_profiles p ON p.id = c.certificate_profile_id
          WHERE c.id = $1`,
        values: [certificateId],
      });
      return rows[0];
    },

    async issuerContext(issuerId, profileId) {
      const { rows } = await pool.query<IssuerContext>({
        name: 'issuer-context',
        text: `SELECT i.id AS issuer_id, i.type AS issuer_type, i.enabled AS issuer_enabled, i.config AS issuer_config,
                      p.id AS profile_id, p.enabled AS profile_enabled, p.allowed_key_algorithms, p.allowed_ekus,
                      p.san_patterns, p.max_ttl_seconds
                 FROM issuers i LEFT JOIN certificate_profiles p ON p.id = $2
                WHERE i.id = $1`,
        values: [issuerId, profileId],
      });
      return rows[0];
    },

    async insertIssued(entries) {
      const rows = entries.map(({ certificate: c, version: v }) => ({
        ...c,
        version_id: v.id,
        serial_number: v.serialNumber,
        not_before: v.notBefore.toISOString(),
        not_after: v.notAfter.toISOString(),
        fingerprint_sha256: v.fingerprint,
        pem_chain: v.pemChain,
        csr_pem: v.csrPem,
        key_algorithm: v.keyAlgorithm,
        key_size: v.keySize,
      }));
      await pool.query({
        name: 'insert-issued',
        text: `WITH r AS MATERIALIZED (
                 SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
                   id text, name text, common_name text, sans text[], owner_id text, team_id text, issuer_id text,
                   renewal_policy_id text, certificate_profile_id text, tags jsonb, source text, version_id text,
                   serial_number text, not_before timestamptz, not_after timestamptz, fingerprint_sha256 text,
                   pem_chain text, csr_pem text, key_algorithm text, key_size int)
               ), c AS (
                 INSERT INTO certificates (id, name, common_name, sans, owner_id, team_id, issuer_id, renewal_policy_id,
                                           certificate_profile_id, tags, source, status, expires_at, last_renewal_at)
                 SELECT id, name, common_name, sans, owner_id, team_id, issuer_id, renewal_policy_id,
                        certificate_profile_id, tags, source, '${issuedStatus}', not_after, now() FROM r
                 RETURNING id
               )
               INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256,
                                                 pem_chain, csr_pem, key_algorithm, key_size)
               SELECT r.version_id, c.id, r.serial_number, r.not_before, r.not_after, r.fingerprint_sha256,
                      r.pem_chain, r.csr_pem, r.key_algorithm, r.key_size
                 FROM c JOIN r ON r.id = c.id`,
        values: [JSON.stringify(rows)],
      });
    },

    async localIssuer(issuerId) {
      const { rows } = await pool.query<{ config: LocalIssuerConfig }>("SELECT config FROM issuers WHERE id = $1 AND type = 'local'", [issuerId]);
      return rows[0]?.config;
    },

    async recordIssued(certificateId, v) {
      if (!v.agentId) {
        // REST and ACME issuance: the new version completes the open job at once, so lock,
        // insert, complete and activate are one statement (one round trip instead of six: the
        // issuance path is bound by round trips, docs/operator/scale.md).
        const { rows } = await pool.query<{ status: CertificateRow['status'] }>({
          name: 'record-issued',
          text: `WITH cert AS (
                   SELECT c.id, (SELECT j.id FROM jobs j WHERE j.certificate_id = c.id AND ${openIssuanceJob('j')}) AS job_id
                     FROM certificates c WHERE c.id = $1 AND c.status NOT IN ${terminal} FOR UPDATE
                 ), version AS (
                   INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256,
                                                     pem_chain, csr_pem, key_algorithm, key_size, job_id)
                   SELECT $2, cert.id, $3, $4, $5, $6, $7, $8, $9, $10, cert.job_id FROM cert
                   RETURNING job_id
                 ), done AS (
                   UPDATE jobs j SET status = 'Completed', attempts = j.attempts + 1, completed_at = now(), updated_at = now()
                     FROM version WHERE j.id = version.job_id
                 )
                 UPDATE certificates c SET status = '${issuedStatus}', expires_at = $5, last_renewal_at = now(), updated_at = now()
                   FROM cert WHERE c.id = cert.id
                 RETURNING c.status`,
          values: [certificateId, v.id, v.serialNumber, v.notBefore, v.notAfter, v.fingerprint, v.pemChain, v.csrPem, v.keyAlgorithm, v.keySize],
        });
        return rows[0]?.status;
      }
      // An agent's leaf: the job completes only when every live agent serving the certificate
      // has its own, so the check must see versions other agents committed concurrently.
      return withTransaction(pool, async (client) => {
        // Step 1: lock the certificate. Concurrent CSRs from agents sharing it serialise here, so
        // the coverage check in step 3 sees every version committed before it.
        // Named (as step 3): an agent's CSR is a hot path, and planning these cost more than running them.
        const { rows } = await client.query<{ status: CertificateRow['status']; job_id: string | null }>({
          name: 'agent-leaf-lock-certificate',
          text: `SELECT c.status, (SELECT j.id FROM jobs j WHERE j.certificate_id = c.id AND ${openIssuanceJob('j')}) AS job_id
             FROM certificates c WHERE c.id = $1 AND c.status NOT IN ${terminal} FOR UPDATE`,
          values: [certificateId],
        });
        const cert = rows[0];
        if (!cert) return undefined;
        // Step 2: the version, tied to the job it answers and the agent holding its key.
        await client.query(
          `INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256,
                                             pem_chain, csr_pem, key_algorithm, key_size, agent_id, job_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            v.id,
            certificateId,
            v.serialNumber,
            v.notBefore,
            v.notAfter,
            v.fingerprint,
            v.pemChain,
            v.csrPem,
            v.keyAlgorithm,
            v.keySize,
            v.agentId ?? null,
            cert.job_id,
          ],
        );
        // Step 3: done when no live agent serving the certificate still owes a CSR for the job
        // (otherwise the job stays open, and the certificate RenewalInProgress).
        const activated = cert.job_id
          ? await client.query<{ status: CertificateRow['status'] }>({
              name: 'agent-leaf-complete-jobs',
              text: completeCoveredJobsSql('$1::text[]'),
              values: [[certificateId]],
            })
          : await client.query<{ status: CertificateRow['status'] }>(
              `UPDATE certificates SET status = '${issuedStatus}', expires_at = $2, last_renewal_at = now(), updated_at = now() WHERE id = $1 RETURNING status`,
              [certificateId, v.notAfter],
            );
        return activated.rows[0]?.status ?? cert.status;
      });
    },
  };
}
