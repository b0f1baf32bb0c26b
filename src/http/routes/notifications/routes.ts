/** GET /api/v1/notifications: expiry alerts and their delivery state, keyset by id. */
import { z } from 'zod';
import { notificationStatuses, type NotificationFilter, type NotificationRow } from '../../../domain/notifications.ts';
import type { NotificationService } from '../../../services/notifications.ts';
import { pick } from '../../presenters/row.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { refId } from '../common/fields.ts';
import { listEnvelope } from '../common/responses.ts';

const at = z.iso.datetime({ offset: true });
export const NotificationSchema = z.object({
  id: z.string(),
  certificate_id: z.string(),
  threshold_days: z.number().int(),
  expires_at: at,
  channel: z.literal('webhook'),
  status: z.enum(notificationStatuses),
  attempts: z.number().int(),
  next_attempt_at: at,
  last_error: z.string().nullable(),
  created_at: at,
  delivered_at: at.nullable(),
});
const fields = Object.keys(NotificationSchema.shape);
const present = (n: NotificationRow) => pick(n, fields);

export const NotificationsListSchema = z.strictObject({
  status: z.enum(notificationStatuses).optional(),
  certificate_id: refId.optional(),
  per_page: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});

export function notificationRoutes(deps: { notifications: NotificationService }): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/notifications',
      summary: 'Expiry alerts (one per certificate, threshold and expiry) with their delivery state: filters status, certificate_id; keyset cursor',
      query: NotificationsListSchema,
      response: { schema: listEnvelope(NotificationSchema, { cursor: true, page: false }).omit({ total: true }) },
      access: 'certificates.read',
      etag: true,
      handler: async (ctx) => {
        const { per_page, cursor, ...filter } = ctx.queryParams;
        const perPage = per_page ?? 50;
        const { rows, nextCursor } = await deps.notifications.list(filter as NotificationFilter, perPage, cursor);
        return { status: 200, json: { data: rows.map(present), per_page: perPage, ...(nextCursor ? { next_cursor: nextCursor } : {}) } };
      },
    }),
  ];
}
