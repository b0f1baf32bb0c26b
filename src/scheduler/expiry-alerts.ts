/**
 * Expiry alerts (leader-only loop): each tick creates the notifications for thresholds newly
 * crossed (one per certificate, threshold and expiry: src/db/notifications.ts) and, with a
 * webhook configured, delivers due ones in batches of 50: POST JSON, 2xx within 5 s is
 * delivered; anything else is retried after 30 s, 60 s, 120 s ... and dead-lettered after
 * `maxAttempts`. Without a webhook, notifications are listed by GET /api/v1/notifications.
 */
import type { DueNotification, NotificationRepository } from '../db/notifications.ts';
import type { Logger } from '../observability/logger.ts';
import { Loop } from './loop.ts';
import { truncate } from '../text.ts';

export interface ExpiryAlertDeps {
  repo: NotificationRepository;
  webhookUrl: string | undefined;
  maxAttempts: number;
  /** Base of the retry backoff; default 30 s. */
  backoffSeconds?: number;
  /** How long a claimed notification is reserved for this delivery; default 60 s. */
  leaseSeconds?: number;
}

const daysLeft = (expiresAt: Date) => Math.floor((expiresAt.getTime() - Date.now()) / 86_400_000);

async function post(url: string, n: DueNotification): Promise<string | undefined> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: n.id, // stable across retries: receivers dedupe on it
        type: 'certificate_expiring',
        certificate_id: n.certificate_id,
        name: n.certificate_name,
        common_name: n.common_name,
        expires_at: n.expires_at.toISOString(),
        threshold_days: n.threshold_days,
        days_left: daysLeft(n.expires_at),
      }),
      signal: AbortSignal.timeout(5_000),
      redirect: 'error',
    });
    await res.arrayBuffer();
    return res.ok ? undefined : `webhook answered HTTP ${res.status}`;
  } catch (err) {
    return truncate(`webhook failed: ${(err as Error).message}`, 500);
  }
}

export async function runExpiryAlerts(deps: ExpiryAlertDeps, signal?: AbortSignal): Promise<{ created: number; attempted: number }> {
  const created = await deps.repo.createDue();
  let attempted = 0;
  if (!deps.webhookUrl) return { created, attempted };
  for (;;) {
    if (signal?.aborted) break;
    const batch = await deps.repo.claimDue(50, deps.leaseSeconds ?? 60);
    if (batch.length === 0) break;
    const outcomes = await Promise.all(batch.map(async (n) => ({ id: n.id, error: await post(deps.webhookUrl!, n) })));
    await deps.repo.recordDelivery(outcomes, deps.maxAttempts, deps.backoffSeconds ?? 30);
    attempted += batch.length;
  }
  return { created, attempted };
}

export function expiryAlertsLoop(deps: ExpiryAlertDeps & { intervalSeconds: number; log: Logger }): Loop {
  const intervalMs = deps.intervalSeconds * 1000;
  return new Loop({
    name: 'expiry-alerts',
    intervalMs,
    randomStart: true,
    randomStartMs: Math.min(intervalMs, 60_000),
    log: deps.log,
    run: async (signal) => {
      const { created, attempted } = await runExpiryAlerts(deps, signal);
      if (created || attempted) deps.log.info({ created, attempted }, 'expiry alerts');
    },
  });
}
