/**
 * The ACME server's order flow tables (migration 0020): orders, authorizations, challenges, and
 * the reads that connect them to the inventory (offered profiles, issued versions by serial).
 * Statements run in the caller's unit of work when there is one (transaction-scope.ts).
 */
import type {
  AcmeAuthorizationRow,
  AcmeChallengeRow,
  AcmeChallengeStatus,
  AcmeChallengeType,
  AcmeIdentifier,
  AcmeIssuedVersion,
  AcmeOrderRow,
  AcmeOrderStatus,
  AcmeProfile,
  StoredProblem,
} from '../domain/acme.ts';
import { translateConstraintError } from './constraint-errors.ts';
import { openIssuanceJob } from './open-jobs.ts';
import type { Pool } from './pool.ts';

export interface NewAuthorization {
  id: string;
  identifierType: 'dns' | 'ip';
  identifier: string;
  wildcard: boolean;
  status: 'pending' | 'valid';
  /** Offered pending; none for an authorization valid at once (trusted). */
  challenges: Array<{ id: string; type: AcmeChallengeType; token: string }>;
}

export interface NewOrder {
  id: string;
  accountId: string;
  profileId: string;
  status: 'pending' | 'ready';
  expiresAt: Date;
  identifiers: AcmeIdentifier[];
  notBefore: Date | null;
  notAfter: Date | null;
  replaces: string | null;
  /** The account URL (kid) the client uses: dns-account-01 names its record after it. */
  accountUrl: string;
  authorizations: NewAuthorization[];
}

/** A challenge with what deciding on it needs: its authorization and order. */
export interface ChallengeContext extends AcmeChallengeRow {
  account_url: string;
  identifier_type: 'dns' | 'ip';
  identifier: string;
  wildcard: boolean;
  authorization_status: string;
  order_id: string;
  account_id: string;
}

/** An order read with its authorizations' ids, in identifier order (one round trip, not two). */
export type OrderWithAuthorizations = AcmeOrderRow & { authorization_ids: string[] };

export interface AcmeOrderRepository {
  offeredProfiles(): Promise<AcmeProfile[]>;
  /**
   * Inserts orders with their authorizations and challenges (one statement); rows in the input's
   * order. A second live order replacing one certificate: ConstraintViolation (unique, 'replaces').
   */
  createOrders(orders: readonly NewOrder[]): Promise<AcmeOrderRow[]>;
  orderById(id: string): Promise<OrderWithAuthorizations | undefined>;
  ordersOfAccount(accountId: string, limit: number): Promise<string[]>;
  /** The account's orders awaiting validation (pending, not expired). */
  pendingOrderCount(accountId: string): Promise<number>;
  authorizationById(id: string): Promise<(AcmeAuthorizationRow & { account_id: string }) | undefined>;
  challengeById(id: string): Promise<ChallengeContext | undefined>;
  /** Moves a challenge from `from` to `to`; false when it was not in `from` (someone else moved it). */
  setChallengeStatus(id: string, from: AcmeChallengeStatus, to: AcmeChallengeStatus, error?: StoredProblem): Promise<boolean>;
  /** A pending or valid authorization becomes deactivated (RFC 8555 7.5.2). */
  deactivateAuthorization(id: string): Promise<boolean>;
  /** Locks these orders (id order) until the unit of work ends: a group of validations settles them. */
  lockOrders(ids: readonly string[]): Promise<void>;
  /**
   * Validation outcomes, in one statement: each challenge still processing becomes valid or
   * invalid (with its error), and its authorization, if still pending, follows. Returns the
   * challenges moved (the others were moved by someone else meanwhile).
   */
  settleChallenges(outcomes: ReadonlyArray<{ challengeId: string; authorizationId: string; error: StoredProblem | undefined }>): Promise<Set<string>>;
  /** advanceOrder for several orders in one statement (each with the error it gets if invalid); returns the new statuses. */
  advanceOrders(orders: ReadonlyArray<{ id: string; error: StoredProblem }>): Promise<Map<string, AcmeOrderStatus>>;
  /** A pending order whose authorizations are all valid becomes ready; one with an invalid one, invalid. Returns the new status. */
  advanceOrder(orderId: string, error: StoredProblem): Promise<AcmeOrderStatus | undefined>;
  /** Moves an order from `from` to `to`, setting the given columns; undefined when it was not in `from`. */
  transitionOrder(
    id: string,
    from: AcmeOrderStatus,
    to: AcmeOrderStatus,
    set?: { error?: StoredProblem; certificateId?: string; versionId?: string },
  ): Promise<AcmeOrderRow | undefined>;
  /** Locks these orders (id order) and returns those that are ready: a group of finalizes holds them until it commits. */
  lockReadyOrders(ids: readonly string[]): Promise<Set<string>>;
  /** Ready orders become valid with their certificate and version, in one statement; returns them. */
  completeOrders(entries: ReadonlyArray<{ id: string; certificateId: string; versionId: string }>): Promise<AcmeOrderRow[]>;
  /** The issued version with this serial (canonical hex), with its certificate's state and ACME owner. */
  issuedVersionBySerial(serial: string): Promise<AcmeIssuedVersion | undefined>;
  /** An order and its certificate's PEM chain (none until it is valid), in one round trip. */
  orderWithChain(id: string): Promise<{ order: AcmeOrderRow; chain: string | undefined } | undefined>;
  /** A certificate's open renewal request (job) is done: an ACME client replaced it. Returns how many. */
  completeRenewalRequests(certificateId: string): Promise<number>;
  /**
   * Challenges processing for longer than `olderThanSeconds` (their replica went away mid-way),
   * claimed for a new attempt (their clock restarts), with the account key thumbprint the key
   * authorization needs. At most `limit`.
   */
  claimInterruptedValidations(olderThanSeconds: number, limit: number): Promise<Array<ChallengeContext & { key_thumbprint: string }>>;
  /** Orders past their expiry that never reached processing become invalid (at most `limit`). */
  expireOrders(limit: number): Promise<number>;
  /** Orders without a certificate, expired more than `retentionSeconds` ago, are deleted (at most `limit`). */
  deleteExpiredOrders(retentionSeconds: number, limit: number): Promise<number>;
}

/** An order's columns, of table (or alias) `t`. */
const orderColumnsOf = (t: string) =>
  [
    'id',
    'account_id',
    'profile_id',
    'status',
    'expires_at',
    'identifiers',
    'not_before',
    'not_after',
    'replaces',
    'error',
    'certificate_id',
    'version_id',
    'created_at',
  ]
    .map((c) => `${t}.${c}`)
    .join(', ');
const orderColumns = orderColumnsOf('acme_orders');

/** Authorization `a`'s challenges as a JSON array, in the order they were offered. */
const challengesOf = (a: string) =>
  `COALESCE((SELECT json_agg(json_build_object('id', c.id, 'authorization_id', c.authorization_id, 'type', c.type, 'token', c.token,
                              'status', c.status, 'validated_at', c.validated_at, 'error', c.error) ORDER BY c.position)
               FROM acme_challenges c WHERE c.authorization_id = ${a}.id), '[]') AS challenges`;

export function createAcmeOrderRepository(pool: Pool): AcmeOrderRepository {
  const advanceOrders: AcmeOrderRepository['advanceOrders'] = async (orders) => {
    const { rows } = await pool.query<{ id: string; status: AcmeOrderStatus }>({
      name: 'acme-advance-orders',
      text: `UPDATE acme_orders o SET updated_at = now(),
                    status = CASE WHEN s.invalid THEN 'invalid' ELSE 'ready' END,
                    error = CASE WHEN s.invalid THEN t.error END
               FROM jsonb_to_recordset($1::jsonb) AS t(oid text, error jsonb),
                    LATERAL (SELECT bool_or(a.status IN ('invalid', 'deactivated', 'expired', 'revoked')) AS invalid, bool_and(a.status = 'valid') AS valid
                               FROM acme_authorizations a WHERE a.order_id = t.oid) s
              WHERE o.id = t.oid AND o.status = 'pending' AND (s.invalid OR s.valid)
             RETURNING o.id, o.status`,
      values: [JSON.stringify(orders.map((o) => ({ oid: o.id, error: o.error })))],
    });
    return new Map(rows.map((r) => [r.id, r.status]));
  };

  return {
    async offeredProfiles() {
      const { rows } = await pool.query<AcmeProfile>(
        `SELECT p.id, p.name, p.description, acme_auth_mode AS "authMode", acme_issuer_id AS "issuerId", i.type AS "issuerType", acme_owner_id AS "ownerId",
                acme_team_id AS "teamId", acme_renewal_policy_id AS "renewalPolicyId", san_patterns AS "sanPatterns",
                max_ttl_seconds AS "maxTtlSeconds", allowed_key_algorithms AS "allowedKeyAlgorithms", allowed_ekus AS "allowedEkus",
                COALESCE((i.config->>'validity_days')::int, 90) AS "issuerValidityDays"
           FROM certificate_profiles p JOIN issuers i ON i.id = p.acme_issuer_id
          -- A local CA signs while finalize waits; an issuer that is itself an ACME CA would leave
          -- orders processing for minutes, which clients are not built for: such profiles are not offered.
          WHERE p.enabled AND i.type = 'local' AND acme_issuer_id IS NOT NULL AND acme_owner_id IS NOT NULL AND acme_team_id IS NOT NULL
            AND acme_renewal_policy_id IS NOT NULL
          ORDER BY p.name`,
      );
      return rows;
    },

    async createOrders(orders) {
      // The orders, their authorizations and their challenges in one statement (one round trip;
      // the foreign keys are checked at its end, when every row is there).
      const authorizations = orders.flatMap((o) =>
        o.authorizations.map((a, i) => ({
          id: a.id,
          order_id: o.id,
          identifier_type: a.identifierType,
          identifier: a.identifier,
          wildcard: a.wildcard,
          status: a.status,
          expires_at: o.expiresAt.toISOString(),
          position: i + 1,
        })),
      );
      const challenges = orders.flatMap((o) =>
        o.authorizations.flatMap((a) => a.challenges.map((c, i) => ({ id: c.id, authorization_id: a.id, type: c.type, token: c.token, position: i + 1 }))),
      );
      try {
        const result = await pool.query<AcmeOrderRow>({
          name: 'acme-create-orders',
          text: `WITH o AS (
                   INSERT INTO acme_orders (id, account_id, profile_id, status, expires_at, identifiers, not_before, not_after, replaces, account_url)
                   SELECT id, account_id, profile_id, status, expires_at, identifiers, not_before, not_after, replaces, account_url
                     FROM jsonb_to_recordset($1::jsonb) AS r(id text, account_id text, profile_id text, status text, expires_at timestamptz,
                          identifiers jsonb, not_before timestamptz, not_after timestamptz, replaces text, account_url text)
                   RETURNING ${orderColumns}
                 ), a AS (
                   INSERT INTO acme_authorizations (id, order_id, identifier_type, identifier, wildcard, status, expires_at, position)
                   SELECT id, order_id, identifier_type, identifier, wildcard, status, expires_at, position
                     FROM jsonb_to_recordset($2::jsonb) AS r(id text, order_id text, identifier_type text, identifier text, wildcard boolean,
                          status text, expires_at timestamptz, position int)
                 ), c AS (
                   INSERT INTO acme_challenges (id, authorization_id, type, token, status, position)
                   SELECT id, authorization_id, type, token, 'pending', position
                     FROM jsonb_to_recordset($3::jsonb) AS r(id text, authorization_id text, type text, token text, position int)
                 )
                 SELECT * FROM o`,
          values: [
            JSON.stringify(
              orders.map((o) => ({
                id: o.id,
                account_id: o.accountId,
                profile_id: o.profileId,
                status: o.status,
                expires_at: o.expiresAt.toISOString(),
                identifiers: o.identifiers,
                not_before: o.notBefore?.toISOString() ?? null,
                not_after: o.notAfter?.toISOString() ?? null,
                replaces: o.replaces,
                account_url: o.accountUrl,
              })),
            ),
            JSON.stringify(authorizations),
            JSON.stringify(challenges),
          ],
        });
        const byId = new Map(result.rows.map((row) => [row.id, row]));
        return orders.map((o) => byId.get(o.id)!);
      } catch (err) {
        translateConstraintError(err, { unique: { acme_orders_replaces_key: 'replaces' } }, 'ACME order');
      }
    },

    async orderById(id) {
      // With its authorizations' ids (the order's JSON lists them): one round trip, not two.
      // Named (prepared once per connection): every ACME request on an order reads it.
      const { rows } = await pool.query<OrderWithAuthorizations>({
        name: 'acme-order-by-id',
        text: `SELECT ${orderColumns},
                ARRAY(SELECT a.id FROM acme_authorizations a WHERE a.order_id = acme_orders.id ORDER BY a.position) AS authorization_ids
           FROM acme_orders WHERE id = $1`,
        values: [id],
      });
      return rows[0];
    },

    async ordersOfAccount(accountId, limit) {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT id FROM acme_orders WHERE account_id = $1 AND status IN ('pending', 'ready', 'processing', 'valid') AND expires_at > now()
          ORDER BY created_at DESC, id DESC LIMIT $2`,
        [accountId, limit],
      );
      return rows.map((r) => r.id);
    },

    async pendingOrderCount(accountId) {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM acme_orders WHERE account_id = $1 AND status = 'pending' AND expires_at > now()`,
        [accountId],
      );
      return rows[0]!.n;
    },

    async authorizationById(id) {
      const { rows } = await pool.query<AcmeAuthorizationRow & { account_id: string }>(
        `SELECT a.id, a.order_id, a.identifier_type, a.identifier, a.wildcard, a.status, a.expires_at, o.account_id,
                ${challengesOf('a')}
           FROM acme_authorizations a JOIN acme_orders o ON o.id = a.order_id WHERE a.id = $1`,
        [id],
      );
      return rows[0] && withChallengeDates(rows[0]);
    },

    async challengeById(id) {
      const { rows } = await pool.query<ChallengeContext>(
        `SELECT c.id, c.authorization_id, c.type, c.token, c.status, c.validated_at, c.error,
                a.identifier_type, a.identifier, a.wildcard, a.status AS authorization_status, a.order_id, o.account_id, o.account_url
           FROM acme_challenges c JOIN acme_authorizations a ON a.id = c.authorization_id JOIN acme_orders o ON o.id = a.order_id
          WHERE c.id = $1`,
        [id],
      );
      return rows[0];
    },

    async setChallengeStatus(id, from, to, error) {
      const { rowCount } = await pool.query(
        `UPDATE acme_challenges SET status = $3, error = $4, validated_at = CASE WHEN $3 = 'valid' THEN now() ELSE validated_at END, updated_at = now()
          WHERE id = $1 AND status = $2`,
        [id, from, to, error ? JSON.stringify(error) : null],
      );
      return rowCount === 1;
    },

    async deactivateAuthorization(id) {
      const { rowCount } = await pool.query(`UPDATE acme_authorizations SET status = 'deactivated' WHERE id = $1 AND status IN ('pending', 'valid')`, [id]);
      return rowCount === 1;
    },

    async advanceOrder(orderId, error) {
      return (await advanceOrders([{ id: orderId, error }])).get(orderId);
    },

    async lockOrders(ids) {
      await pool.query({ name: 'acme-lock-orders', text: 'SELECT 1 FROM acme_orders WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', values: [ids] });
    },

    async settleChallenges(outcomes) {
      const { rows } = await pool.query<{ id: string }>({
        name: 'acme-settle-challenges',
        text: `WITH t AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(cid text, aid text, error jsonb)),
               ch AS (
                 UPDATE acme_challenges c SET status = CASE WHEN t.error IS NULL THEN 'valid' ELSE 'invalid' END, error = t.error,
                        validated_at = CASE WHEN t.error IS NULL THEN now() ELSE c.validated_at END, updated_at = now()
                   FROM t WHERE c.id = t.cid AND c.status = 'processing'
                 RETURNING c.id, t.aid, t.error IS NULL AS valid
               ), az AS (
                 UPDATE acme_authorizations a SET status = CASE WHEN ch.valid THEN 'valid' ELSE 'invalid' END
                   FROM ch WHERE a.id = ch.aid AND a.status = 'pending'
                 RETURNING a.id
               )
               SELECT id FROM ch`,
        values: [JSON.stringify(outcomes.map((o) => ({ cid: o.challengeId, aid: o.authorizationId, error: o.error ?? null })))],
      });
      return new Set(rows.map((r) => r.id));
    },

    advanceOrders,

    async lockReadyOrders(ids) {
      const { rows } = await pool.query<{ id: string }>({
        name: 'acme-lock-ready-orders',
        text: `SELECT id FROM acme_orders WHERE id = ANY($1::text[]) AND status = 'ready' ORDER BY id FOR UPDATE`,
        values: [ids],
      });
      return new Set(rows.map((r) => r.id));
    },

    async completeOrders(entries) {
      const { rows } = await pool.query<AcmeOrderRow>({
        name: 'acme-complete-orders',
        text: `UPDATE acme_orders o SET status = 'valid', certificate_id = t.cid, version_id = t.vid, updated_at = now()
                 FROM jsonb_to_recordset($1::jsonb) AS t(oid text, cid text, vid text)
                WHERE o.id = t.oid AND o.status = 'ready'
               RETURNING ${orderColumnsOf('o')}`,
        values: [JSON.stringify(entries.map((e) => ({ oid: e.id, cid: e.certificateId, vid: e.versionId })))],
      });
      return rows;
    },

    async transitionOrder(id, from, to, set = {}) {
      const { rows } = await pool.query<AcmeOrderRow>({
        name: 'acme-transition-order',
        text: `UPDATE acme_orders SET status = $3, error = COALESCE($4, error), certificate_id = COALESCE($5, certificate_id),
                version_id = COALESCE($6, version_id), updated_at = now()
          WHERE id = $1 AND status = $2 RETURNING ${orderColumns}`,
        values: [id, from, to, set.error ? JSON.stringify(set.error) : null, set.certificateId ?? null, set.versionId ?? null],
      });
      return rows[0];
    },

    async issuedVersionBySerial(serial) {
      // Named (prepared once per connection): planning this join with its three subqueries took
      // 1.3 ms of PostgreSQL CPU per call, ten times its execution, and capped renewal-info near
      // 1,400 requests/s (npm run loadtest -- acme_burst).
      const { rows } = await pool.query<AcmeIssuedVersion>({
        name: 'acme-issued-version-by-serial',
        text: `SELECT v.id AS version_id, v.certificate_id, c.issuer_id, v.serial_number, v.fingerprint_sha256 AS fingerprint, v.not_before, v.not_after, v.pem_chain,
                c.status AS certificate_status, p.renewal_window_days,
                EXISTS (SELECT 1 FROM certificate_revocations r WHERE r.issuer_id = c.issuer_id AND r.serial_number = v.serial_number) AS revoked,
                EXISTS (SELECT 1 FROM jobs j WHERE j.certificate_id = c.id AND ${openIssuanceJob('j')}) AS renewal_requested,
                (SELECT o.account_id FROM acme_orders o WHERE o.certificate_id = v.certificate_id LIMIT 1) AS account_id
           FROM certificate_versions v JOIN certificates c ON c.id = v.certificate_id JOIN renewal_policies p ON p.id = c.renewal_policy_id
          WHERE v.serial_number = $1
          LIMIT 1`,
        values: [serial],
      });
      return rows[0];
    },

    async orderWithChain(id) {
      const { rows } = await pool.query<AcmeOrderRow & { pem_chain: string | null }>({
        name: 'acme-order-with-chain',
        text: `SELECT ${orderColumnsOf('o')}, v.pem_chain
                 FROM acme_orders o LEFT JOIN certificate_versions v ON v.id = o.version_id WHERE o.id = $1`,
        values: [id],
      });
      const row = rows[0];
      if (!row) return undefined;
      const { pem_chain: chain, ...order } = row;
      return { order, chain: chain ?? undefined };
    },

    async completeRenewalRequests(certificateId) {
      const { rowCount } = await pool.query(
        `UPDATE jobs j SET status = 'Completed', completed_at = now(), updated_at = now(), last_error = NULL
          WHERE j.certificate_id = $1 AND ${openIssuanceJob('j')}`,
        [certificateId],
      );
      return rowCount ?? 0;
    },

    async claimInterruptedValidations(olderThanSeconds, limit) {
      const { rows } = await pool.query<ChallengeContext & { key_thumbprint: string }>(
        `WITH claimed AS (
           UPDATE acme_challenges SET updated_at = now()
            WHERE id IN (SELECT id FROM acme_challenges WHERE status = 'processing' AND updated_at < now() - make_interval(secs => $1)
                          ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING id, authorization_id, type, token, status, validated_at, error
         )
         SELECT c.*, a.identifier_type, a.identifier, a.wildcard, a.status AS authorization_status, a.order_id, o.account_id, o.account_url, acct.key_thumbprint
           FROM claimed c JOIN acme_authorizations a ON a.id = c.authorization_id JOIN acme_orders o ON o.id = a.order_id
           JOIN acme_accounts acct ON acct.id = o.account_id`,
        [olderThanSeconds, limit],
      );
      return rows;
    },

    async expireOrders(limit) {
      const { rows } = await pool.query<{ n: number }>(
        `WITH expired AS (
           UPDATE acme_orders SET status = 'invalid', updated_at = now(),
                  error = '{"type":"urn:ietf:params:acme:error:malformed","detail":"the order expired before it was finalized","status":403}'
            WHERE id IN (SELECT id FROM acme_orders WHERE status IN ('pending', 'ready') AND expires_at < now() LIMIT $1)
            RETURNING id
         ), authorizations AS (
           UPDATE acme_authorizations SET status = 'expired' WHERE order_id IN (SELECT id FROM expired) AND status = 'pending'
         )
         SELECT count(*)::int AS n FROM expired`,
        [limit],
      );
      return rows[0]!.n;
    },

    async deleteExpiredOrders(retentionSeconds, limit) {
      const { rowCount } = await pool.query(
        `DELETE FROM acme_orders WHERE id IN (
           SELECT id FROM acme_orders WHERE status IN ('pending', 'ready', 'invalid') AND certificate_id IS NULL
              AND expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
        [retentionSeconds, limit],
      );
      return rowCount ?? 0;
    },
  };
}

/** json_agg gives timestamps as strings. */
function withChallengeDates<T extends AcmeAuthorizationRow>(row: T): T {
  return {
    ...row,
    challenges: row.challenges.map((c) => ({ ...c, validated_at: c.validated_at === null ? null : new Date(c.validated_at) })),
  };
}
