/**
 * Revocations, keyed by (issuer_id, serial_number) so a CRL or OCSP lookup never misses, and the
 * stored CRL per issuer. Bulk revocation is one set-based statement: no row cap, no N+1.
 */
import type { RevocationReason } from '../pki/crl.ts';
import { criteriaConditions, type CertificateCriteria } from './certificate-criteria.ts';
import type { Pool } from './pool.ts';
import { sqlList, withTransaction } from './sql.ts';
import { terminalCertificateStatuses, type TerminalCertificateStatus } from '../domain/lifecycle.ts';

/** A revoked or archived certificate is not revoked (again). */
const terminal = sqlList(terminalCertificateStatuses);

/** The certificates a bulk revocation selects. */
export type RevocationCriteria = CertificateCriteria;

export type RevokeOutcome = { result: 'revoked'; issuerId: string; serials: number } | { result: 'missing' | TerminalCertificateStatus };

export interface StoredCrl {
  crl_number: number;
  der: Buffer;
  this_update: Date;
  next_update: Date;
}

export interface RevocationRepository {
  revoke(certificateId: string, reason: RevocationReason, actor: string): Promise<RevokeOutcome>;
  bulkRevoke(criteria: RevocationCriteria, reason: RevocationReason, actor: string): Promise<{ matched: number; revoked: number; issuers: string[] }>;
  forCrl(issuerId: string): Promise<{ serials: string[]; revokedAt: number[]; reasons: RevocationReason[] }>;
  storedCrl(issuerId: string): Promise<StoredCrl | undefined>;
  /** Stores a CRL unless one with this or a higher crl_number is stored already; false then. */
  storeCrl(issuerId: string, crl: StoredCrl & { revoked: number }): Promise<boolean>;
  /** Issuers whose stored CRL was built before `olderThan` (the leader refreshes them). */
  staleCrlIssuers(olderThan: Date): Promise<string[]>;
}

export function createRevocationRepository(pool: Pool): RevocationRepository {
  return {
    revoke(certificateId, reason, actor) {
      return withTransaction(pool, async (client) => {
        const { rows } = await client.query<{ issuer_id: string }>(
          `UPDATE certificates SET status = 'Revoked', revoked_at = now(), revocation_reason = $2, updated_at = now()
            WHERE id = $1 AND status NOT IN ${terminal} RETURNING issuer_id`,
          [certificateId, reason],
        );
        if (!rows[0]) {
          const current = await client.query<{ status: TerminalCertificateStatus }>('SELECT status FROM certificates WHERE id = $1', [certificateId]);
          return { result: current.rows[0]?.status ?? 'missing' };
        }
        const inserted = await client.query(
          `INSERT INTO certificate_revocations (issuer_id, serial_number, certificate_id, reason, revoked_by)
           SELECT $2, serial_number, $1, $3, $4 FROM certificate_versions WHERE certificate_id = $1
           ON CONFLICT DO NOTHING`,
          [certificateId, rows[0].issuer_id, reason, actor],
        );
        return { result: 'revoked', issuerId: rows[0].issuer_id, serials: inserted.rowCount ?? 0 };
      });
    },

    bulkRevoke(criteria, reason, actor) {
      return withTransaction(pool, async (client) => {
        const c = criteriaConditions(criteria);
        const matched = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM certificates c ${c.where}`, c.params);
        const r = c.param(reason);
        const a = c.param(actor);
        const { rows } = await client.query<{ revoked: number; issuers: string[] | null }>(
          `WITH revoked AS (
             UPDATE certificates c SET status = 'Revoked', revoked_at = now(), revocation_reason = ${r}, updated_at = now()
               ${c.where ? `${c.where} AND` : 'WHERE'} c.status NOT IN ${terminal}
             RETURNING c.id, c.issuer_id
           ), recorded AS (
             INSERT INTO certificate_revocations (issuer_id, serial_number, certificate_id, reason, revoked_by)
             SELECT rv.issuer_id, v.serial_number, rv.id, ${r}, ${a}
               FROM revoked rv JOIN certificate_versions v ON v.certificate_id = rv.id
             ON CONFLICT DO NOTHING
           )
           SELECT count(*)::int AS revoked, array_agg(DISTINCT issuer_id) AS issuers FROM revoked`,
          c.params,
        );
        return { matched: matched.rows[0]!.n, revoked: rows[0]!.revoked, issuers: rows[0]!.issuers ?? [] };
      });
    },

    async forCrl(issuerId) {
      const { rows } = await pool.query<{ serial_number: string; ms: string; reason: RevocationReason }>(
        `SELECT serial_number, (extract(epoch FROM revoked_at) * 1000)::bigint AS ms, reason
           FROM certificate_revocations WHERE issuer_id = $1 ORDER BY serial_number`,
        [issuerId],
      );
      return { serials: rows.map((r) => r.serial_number), revokedAt: rows.map((r) => Number(r.ms)), reasons: rows.map((r) => r.reason) };
    },

    async storedCrl(issuerId) {
      const { rows } = await pool.query<StoredCrl & { crl_number: string }>('SELECT crl_number, der, this_update, next_update FROM crls WHERE issuer_id = $1', [
        issuerId,
      ]);
      return rows[0] ? { ...rows[0], crl_number: Number(rows[0].crl_number) } : undefined;
    },

    async staleCrlIssuers(olderThan) {
      const { rows } = await pool.query<{ issuer_id: string }>('SELECT issuer_id FROM crls WHERE this_update < $1 ORDER BY issuer_id', [olderThan]);
      return rows.map((r) => r.issuer_id);
    },

    async storeCrl(issuerId, crl) {
      const { rowCount } = await pool.query(
        `INSERT INTO crls (issuer_id, crl_number, der, this_update, next_update, revoked) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (issuer_id) DO UPDATE SET crl_number = EXCLUDED.crl_number, der = EXCLUDED.der,
           this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update, revoked = EXCLUDED.revoked
         WHERE crls.crl_number < EXCLUDED.crl_number`,
        [issuerId, crl.crl_number, crl.der, crl.this_update, crl.next_update, crl.revoked],
      );
      return (rowCount ?? 0) > 0;
    },
  };
}
