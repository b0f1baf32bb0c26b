/**
 * The ACME server's tables (migration 0017): accounts and spent nonces. Not the ACME issuer's
 * (certfleet as a client: acme-issuer-*.ts).
 */
import { translateConstraintError } from './constraint-errors.ts';
import type { AcmeAccountRow, AcmeAccountStatus } from '../domain/acme.ts';
import type { Pool } from './pool.ts';

export interface AcmeServerRepository {
  /** Inserts an account; a key already registered is a ConstraintViolation (unique, field 'key'). */
  createAccount(input: { id: string; keyThumbprint: string; jwk: Record<string, unknown>; contact: string[]; tosAgreed: boolean }): Promise<AcmeAccountRow>;
  accountById(id: string): Promise<AcmeAccountRow | undefined>;
  accountByThumbprint(thumbprint: string): Promise<AcmeAccountRow | undefined>;
  updateAccount(id: string, change: { contact?: string[]; status?: AcmeAccountStatus }): Promise<AcmeAccountRow | undefined>;
  /** True the first time `id` is spent (any replica). */
  spendNonce(id: Buffer, expiresAt: Date): Promise<boolean>;
  /** Deletes spent nonces past their expiry, at most `limit`; returns how many. */
  deleteExpiredNonces(limit: number): Promise<number>;
}

const accountColumns = 'id, key_thumbprint, jwk, contact, status, tos_agreed, created_at';

export function createAcmeServerRepository(pool: Pool): AcmeServerRepository {
  return {
    async createAccount(input) {
      try {
        const { rows } = await pool.query<AcmeAccountRow>(
          `INSERT INTO acme_accounts (id, key_thumbprint, jwk, contact, tos_agreed) VALUES ($1, $2, $3, $4, $5) RETURNING ${accountColumns}`,
          [input.id, input.keyThumbprint, input.jwk, input.contact, input.tosAgreed],
        );
        return rows[0]!;
      } catch (err) {
        translateConstraintError(err, { unique: { acme_accounts_key_thumbprint_key: 'key' } }, 'ACME account');
      }
    },
    async accountById(id) {
      const { rows } = await pool.query<AcmeAccountRow>(`SELECT ${accountColumns} FROM acme_accounts WHERE id = $1`, [id]);
      return rows[0];
    },
    async accountByThumbprint(thumbprint) {
      const { rows } = await pool.query<AcmeAccountRow>(`SELECT ${accountColumns} FROM acme_accounts WHERE key_thumbprint = $1`, [thumbprint]);
      return rows[0];
    },
    async updateAccount(id, change) {
      const { rows } = await pool.query<AcmeAccountRow>(
        `UPDATE acme_accounts SET contact = COALESCE($2, contact), status = COALESCE($3, status), updated_at = now()
         WHERE id = $1 RETURNING ${accountColumns}`,
        [id, change.contact ?? null, change.status ?? null],
      );
      return rows[0];
    },
    async spendNonce(id, expiresAt) {
      // Called before a request's unit of work starts: a nonce stays spent even if the request fails.
      const { rowCount } = await pool.query('INSERT INTO acme_spent_nonces (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, expiresAt]);
      return rowCount === 1;
    },
    async deleteExpiredNonces(limit) {
      const { rowCount } = await pool.query('DELETE FROM acme_spent_nonces WHERE id IN (SELECT id FROM acme_spent_nonces WHERE expires_at < now() LIMIT $1)', [
        limit,
      ]);
      return rowCount ?? 0;
    },
  };
}
