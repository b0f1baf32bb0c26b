/**
 * Expiry notifications: created set-based for every certificate that crossed one of its
 * policy's alert thresholds, claimed for delivery with FOR UPDATE SKIP LOCKED and a lease, and
 * marked Delivered, retried with backoff, or dead-lettered.
 */
import type { Pool } from './pool.ts';
import { Conditions, sqlList, sqlNewId } from './sql.ts';
import { expiryNotifiedStatuses } from '../domain/lifecycle.ts';
import type { NotificationFilter, NotificationRow } from '../domain/notifications.ts';

export interface DueNotification extends NotificationRow {
  common_name: string;
  certificate_name: string;
}

export interface NotificationRepository {
  /** One notification per certificate and crossed threshold for its current expiry; returns how many were new. */
  createDue(): Promise<number>;
  /** Claims up to `limit` due Pending notifications for `leaseSeconds` (SKIP LOCKED: never twice at once). */
  claimDue(limit: number, leaseSeconds: number): Promise<DueNotification[]>;
  /** Outcomes of a delivery attempt: no error = Delivered. */
  recordDelivery(outcomes: Array<{ id: string; error?: string | undefined }>, maxAttempts: number, backoffSeconds: number): Promise<void>;
  list(filter: NotificationFilter, limit: number, afterId: string | undefined): Promise<NotificationRow[]>;
}

export function createNotificationRepository(pool: Pool): NotificationRepository {
  return {
    async createDue() {
      // Thresholds come from each certificate's renewal policy (alert_thresholds_days). Only
      // issued, live certificates: Active, Expiring, Expired (a renewal in progress included).
      const { rowCount } = await pool.query(
        `INSERT INTO notifications (id, certificate_id, threshold_days, expires_at)
         SELECT ${sqlNewId('ntf')},
                c.id, t.days, c.expires_at
           FROM certificates c
           JOIN renewal_policies p ON p.id = c.renewal_policy_id
           CROSS JOIN LATERAL unnest(p.alert_thresholds_days) AS t(days)
          WHERE c.status IN ${sqlList(expiryNotifiedStatuses)}
            AND isfinite(c.expires_at)
            AND c.expires_at <= now() + make_interval(days => t.days)
            AND c.expires_at <= now() + interval '366 days'
         ON CONFLICT ON CONSTRAINT notifications_once DO NOTHING`,
      );
      return rowCount ?? 0;
    },

    async claimDue(limit, leaseSeconds) {
      // Claimed by pushing next_attempt_at out by a lease, then delivered outside any
      // transaction: a replica that dies mid-delivery leaves the claim to expire and another
      // retries (at-least-once; receivers dedupe on the notification id).
      const { rows } = await pool.query<DueNotification>(
        `WITH claimed AS (
           UPDATE notifications n SET next_attempt_at = now() + make_interval(secs => $2)
             FROM (SELECT id FROM notifications WHERE status = 'Pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED) d
            WHERE n.id = d.id
           RETURNING n.*
         )
         SELECT claimed.*, c.common_name, c.name AS certificate_name
           FROM claimed JOIN certificates c ON c.id = claimed.certificate_id ORDER BY claimed.id`,
        [limit, leaseSeconds],
      );
      return rows;
    },

    async recordDelivery(outcomes, maxAttempts, backoffSeconds) {
      if (outcomes.length === 0) return;
      // Delivered; or retried after backoffSeconds * 2^attempts; or dead-lettered at maxAttempts.
      await pool.query(
        `UPDATE notifications n SET attempts = n.attempts + 1,
                status = CASE WHEN u.error IS NULL THEN 'Delivered' WHEN n.attempts + 1 >= $3 THEN 'DeadLetter' ELSE 'Pending' END,
                delivered_at = CASE WHEN u.error IS NULL THEN now() END,
                last_error = u.error,
                next_attempt_at = CASE WHEN u.error IS NULL THEN n.next_attempt_at
                                       ELSE now() + make_interval(secs => $4 * power(2, n.attempts)) END
           FROM unnest($1::text[], $2::text[]) AS u(id, error)
          WHERE n.id = u.id AND n.status = 'Pending'`,
        [outcomes.map((o) => o.id), outcomes.map((o) => o.error ?? null), maxAttempts, backoffSeconds],
      );
    },

    async list(filter, limit, afterId) {
      const c = new Conditions();
      if (filter.status) c.add('status = ?', filter.status);
      if (filter.certificate_id) c.add('certificate_id = ?', filter.certificate_id);
      if (afterId) c.add('id > ?', afterId);
      const { rows } = await pool.query<NotificationRow>(`SELECT * FROM notifications ${c.where} ORDER BY id LIMIT ${c.param(limit)}`, c.params);
      return rows;
    },
  };
}
