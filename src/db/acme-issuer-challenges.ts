/**
 * HTTP-01 key authorizations the ACME connector answers with, shared by every replica (the CA
 * may reach any of them): written before the challenge is accepted, read by
 * GET /.well-known/acme-challenge/{token}, deleted when the order is done.
 */
import type { Pool } from './pool.ts';

export interface AcmeChallengeRepository {
  put(token: string, keyAuthorization: string, ttlSeconds: number): Promise<void>;
  get(token: string): Promise<string | undefined>;
  remove(tokens: readonly string[]): Promise<void>;
}

export function createAcmeChallengeRepository(pool: Pool): AcmeChallengeRepository {
  return {
    async put(token, keyAuthorization, ttlSeconds) {
      await pool.query(
        `INSERT INTO acme_challenge_responses (token, key_authorization, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
         ON CONFLICT (token) DO UPDATE SET key_authorization = EXCLUDED.key_authorization, expires_at = EXCLUDED.expires_at`,
        [token, keyAuthorization, ttlSeconds],
      );
    },
    async get(token) {
      const { rows } = await pool.query<{ key_authorization: string }>(
        'SELECT key_authorization FROM acme_challenge_responses WHERE token = $1 AND expires_at > now()',
        [token],
      );
      return rows[0]?.key_authorization;
    },
    async remove(tokens) {
      if (tokens.length) await pool.query('DELETE FROM acme_challenge_responses WHERE token = ANY($1::text[]) OR expires_at < now()', [tokens]);
    },
  };
}
