/**
 * The ACME server's tables (migration 0017): accounts and spent nonces. Not the ACME issuer's
 * (certfleet as a client: acme-issuer-*.ts).
 */
import { translateConstraintError } from './constraint-errors.ts';
import type { AcmeAccountRow, AcmeAccountStatus, AcmeEabKeyRow } from '../domain/acme.ts';
import type { Pool } from './pool.ts';
import { coalesce } from './coalesce.ts';

export interface AcmeServerRepository {
  /** Inserts an account; a key already registered is a ConstraintViolation (unique, field 'key'). */
  createAccount(input: {
    id: string;
    keyThumbprint: string;
    jwk: Record<string, unknown>;
    contact: string[];
    tosAgreed: boolean;
    eabKeyId?: string | undefined;
  }): Promise<AcmeAccountRow>;
  accountById(id: string): Promise<AcmeAccountRow | undefined>;
  accountByThumbprint(thumbprint: string): Promise<AcmeAccountRow | undefined>;
  updateAccount(id: string, change: { contact?: string[]; status?: AcmeAccountStatus }): Promise<AcmeAccountRow | undefined>;
  /**
   * Replaces an account's key if it still has `oldThumbprint`; undefined otherwise (changed
   * meanwhile). A key another account holds is a ConstraintViolation (unique, field 'key').
   */
  changeAccountKey(id: string, oldThumbprint: string, newThumbprint: string, jwk: Record<string, unknown>): Promise<AcmeAccountRow | undefined>;
  createEabKey(input: { id: string; name: string; hmacKeySealed: Buffer; createdBy: string }): Promise<AcmeEabKeyRow>;
  listEabKeys(includeRevoked: boolean): Promise<AcmeEabKeyRow[]>;
  getEabKey(id: string): Promise<(AcmeEabKeyRow & { hmac_key_sealed: Buffer }) | undefined>;
  /** Marks a key revoked (idempotent); undefined when there is no such key. */
  revokeEabKey(id: string): Promise<AcmeEabKeyRow | undefined>;
  /** Binds a live, unbound key to an account; false when it was revoked or bound meanwhile. */
  bindEabKey(id: string, accountId: string): Promise<boolean>;
  /**
   * One GCRA step for (name, key): admits when the bucket has room and moves its arrival time
   * by `intervalMs`; else returns the seconds until one request would be admitted.
   */
  rateLimit(name: string, key: string, intervalMs: number, periodMs: number): Promise<RateLimitResult>;
  /** Seconds until (name, key) would admit one request (0: it would now); reads, never takes. */
  rateLimitWait(name: string, key: string, intervalMs: number, periodMs: number): Promise<number>;
  /** Deletes rate-limit rows whose buckets are full again, at most `limit`; returns how many. */
  deleteIdleRateLimits(limit: number): Promise<number>;
  /** True the first time `id` is spent (any replica). */
  spendNonce(id: Buffer, expiresAt: Date): Promise<boolean>;
  /** Deletes spent nonces past their expiry, at most `limit`; returns how many. */
  deleteExpiredNonces(limit: number): Promise<number>;
}

type RateLimitStep = { name: string; key: string; intervalMs: number; periodMs: number };
type RateLimitResult = { admitted: true } | { admitted: false; retryAfterSeconds: number };

const accountColumns = 'id, key_thumbprint, jwk, contact, status, tos_agreed, eab_key_id, created_at';
const eabColumns = 'id, name, created_by, created_at, revoked_at, account_id, bound_at';

export function createAcmeServerRepository(pool: Pool): AcmeServerRepository {
  // Concurrent requests spend their nonces in one INSERT (3 spends per issuance: one round trip
  // and one WAL flush each before). The first of the same id in a batch spends it; a second,
  // in the same batch or any later one, finds it spent: a replay.
  const spendNonce = coalesce<{ id: Buffer; expiresAt: Date }, boolean>(async (spends) => {
    const { rows } = await pool.query<{ id: Buffer }>({
      name: 'spend-nonces',
      text: `INSERT INTO acme_spent_nonces (id, expires_at) SELECT * FROM unnest($1::bytea[], $2::timestamptz[])
             ON CONFLICT (id) DO NOTHING RETURNING id`,
      values: [spends.map((s) => s.id), spends.map((s) => s.expiresAt)],
    });
    const spent = new Set(rows.map((r) => r.id.toString('hex')));
    return spends.map((s) => spent.delete(s.id.toString('hex')));
  });
  // Concurrent rate-limit steps go in one call, those of one (name, key) taken together and
  // admitted in arrival order (migration 0027): tat' = max(tat, now) + interval per admitted
  // step, admitted while tat' - now <= period (a burst of period / interval, then one per
  // interval). One statement per batch, any replica.
  const rateLimitStep = coalesce<RateLimitStep, RateLimitResult>(async (steps) => {
    const buckets = new Map<string, { step: RateLimitStep; callers: number[] }>();
    steps.forEach((step, i) => {
      const id = `${step.name}\n${step.key}`;
      const bucket = buckets.get(id);
      if (bucket) bucket.callers.push(i);
      else buckets.set(id, { step, callers: [i] });
    });
    const all = [...buckets.values()];
    const { rows } = await pool.query<{ name: string; key: string; admitted: number; wait_ms: number }>({
      name: 'acme-rate-limit-steps',
      text: 'SELECT name, key, admitted, wait_ms FROM acme_rate_limit_steps($1::text[], $2::text[], $3::int[], $4::float8[], $5::float8[])',
      values: [
        all.map((b) => b.step.name),
        all.map((b) => b.step.key),
        all.map((b) => b.callers.length),
        all.map((b) => b.step.intervalMs),
        all.map((b) => b.step.periodMs),
      ],
    });
    const results: RateLimitResult[] = new Array(steps.length);
    for (const row of rows) {
      const { callers } = buckets.get(`${row.name}\n${row.key}`)!;
      const refused: RateLimitResult = { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(row.wait_ms / 1000)) };
      callers.forEach((caller, n) => (results[caller] = n < row.admitted ? { admitted: true } : refused));
    }
    return results;
  });
  return {
    async createAccount(input) {
      try {
        const { rows } = await pool.query<AcmeAccountRow>(
          `INSERT INTO acme_accounts (id, key_thumbprint, jwk, contact, tos_agreed, eab_key_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${accountColumns}`,
          [input.id, input.keyThumbprint, input.jwk, input.contact, input.tosAgreed, input.eabKeyId ?? null],
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
    async changeAccountKey(id, oldThumbprint, newThumbprint, jwk) {
      try {
        const { rows } = await pool.query<AcmeAccountRow>(
          `UPDATE acme_accounts SET key_thumbprint = $3, jwk = $4, updated_at = now() WHERE id = $1 AND key_thumbprint = $2 RETURNING ${accountColumns}`,
          [id, oldThumbprint, newThumbprint, jwk],
        );
        return rows[0];
      } catch (err) {
        translateConstraintError(err, { unique: { acme_accounts_key_thumbprint_key: 'key' } }, 'ACME account');
      }
    },
    async createEabKey(input) {
      const { rows } = await pool.query<AcmeEabKeyRow>(
        `INSERT INTO acme_eab_keys (id, name, hmac_key_sealed, created_by) VALUES ($1, $2, $3, $4) RETURNING ${eabColumns}`,
        [input.id, input.name, input.hmacKeySealed, input.createdBy],
      );
      return rows[0]!;
    },
    async listEabKeys(includeRevoked) {
      const { rows } = await pool.query<AcmeEabKeyRow>(
        `SELECT ${eabColumns} FROM acme_eab_keys ${includeRevoked ? '' : 'WHERE revoked_at IS NULL'} ORDER BY created_at, id`,
      );
      return rows;
    },
    async getEabKey(id) {
      const { rows } = await pool.query<AcmeEabKeyRow & { hmac_key_sealed: Buffer }>(`SELECT ${eabColumns}, hmac_key_sealed FROM acme_eab_keys WHERE id = $1`, [
        id,
      ]);
      return rows[0];
    },
    async revokeEabKey(id) {
      const { rows } = await pool.query<AcmeEabKeyRow>(
        `UPDATE acme_eab_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${eabColumns}`,
        [id],
      );
      return rows[0];
    },
    async bindEabKey(id, accountId) {
      const { rowCount } = await pool.query(
        'UPDATE acme_eab_keys SET account_id = $2, bound_at = now() WHERE id = $1 AND account_id IS NULL AND revoked_at IS NULL',
        [id, accountId],
      );
      return rowCount === 1;
    },
    rateLimit: (name, key, intervalMs, periodMs) => rateLimitStep({ name, key, intervalMs, periodMs }),
    async rateLimitWait(name, key, intervalMs, periodMs) {
      const { rows } = await pool.query<{ wait_ms: number }>(
        `SELECT (extract(epoch FROM (tat + make_interval(secs => $3 / 1000.0) - make_interval(secs => $4 / 1000.0) - now())) * 1000)::float8 AS wait_ms
           FROM acme_rate_limits WHERE name = $1 AND key = $2`,
        [name, key, intervalMs, periodMs],
      );
      const waitMs = rows[0]?.wait_ms ?? 0;
      return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
    },
    async deleteIdleRateLimits(limit) {
      const { rowCount } = await pool.query(
        'DELETE FROM acme_rate_limits WHERE (name, key) IN (SELECT name, key FROM acme_rate_limits WHERE tat < now() LIMIT $1)',
        [limit],
      );
      return rowCount ?? 0;
    },
    // Called before a request's unit of work starts: a nonce stays spent even if the request fails.
    spendNonce: (id, expiresAt) => spendNonce({ id, expiresAt }),
    async deleteExpiredNonces(limit) {
      const { rowCount } = await pool.query('DELETE FROM acme_spent_nonces WHERE id IN (SELECT id FROM acme_spent_nonces WHERE expires_at < now() LIMIT $1)', [
        limit,
      ]);
      return rowCount ?? 0;
    },
  };
}
