/**
 * Expiry alerts against a real database and a real webhook receiver on loopback: one
 * notification per certificate and crossed threshold (never twice), delivered as JSON, retried
 * after a failure, dead-lettered after max attempts; listed by GET /api/v1/notifications.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationRepository } from '../../src/db/notifications.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { runExpiryAlerts } from '../../src/scheduler/expiry-alerts.ts';
import { useTestWorld } from '../support/world.ts';

let pool: Pool;
let webhook: http.Server;
let webhookUrl: string;
const received: Array<Record<string, unknown>> = [];
let failNext = 0;
let alwaysFail = false;

const world = useTestWorld();

beforeAll(async () => {
  pool = createPool({ connectionString: world.server.db.url, max: 4, log: createLogger({ level: 'silent' }) });
  webhook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (alwaysFail || failNext > 0) {
        failNext--;
        res.statusCode = 503;
      } else {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.statusCode = 204;
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hooks/certs`;
  await pool.query("UPDATE renewal_policies SET alert_thresholds_days = '{30,7,1}' WHERE id = $1", [world.inv.policyId]);
  const cert = (id: string, status: string, days: number) =>
    pool.query(
      `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at)
       VALUES ($1, $1, $1 || '.example.test', $2, $3, $4, $5, $6, now() + make_interval(days => $7::int))`,
      [`${id}-${world.inv.suffix}`, world.inv.ownerId, world.inv.teamId, world.inv.issuerId, world.inv.policyId, status, days],
    );
  await cert('in-20', 'Active', 20); // crossed 30
  await cert('in-5', 'Active', 5); // crossed 30 and 7
  await cert('in-90', 'Active', 90); // nothing yet
  await cert('revoked', 'Revoked', 5); // never alerted
});
afterAll(async () => {
  await pool.end();
  await new Promise((resolve) => webhook.close(resolve));
});

const repo = () => createNotificationRepository(pool);
const mine = async () =>
  (
    await pool.query<{ certificate_id: string; threshold_days: number; status: string; attempts: number }>(
      `SELECT certificate_id, threshold_days, status, attempts FROM notifications WHERE certificate_id LIKE '%-' || $1 ORDER BY certificate_id, threshold_days`,
      [world.inv.suffix],
    )
  ).rows;

describe('expiry alerts', () => {
  it('creates one notification per crossed threshold, delivers it, retries a failure, never twice', async () => {
    failNext = 1; // the receiver is down for the first delivery
    const first = await runExpiryAlerts({ repo: repo(), webhookUrl, maxAttempts: 3, backoffSeconds: 0 });
    expect(first.created).toBe(3);
    expect((await mine()).map((n) => `${n.certificate_id.split('-').slice(0, 2).join('-')}:${n.threshold_days}`)).toEqual(['in-20:30', 'in-5:7', 'in-5:30']);
    // Retried (backoff 0 here): everything delivered, the failed one on its second attempt.
    await runExpiryAlerts({ repo: repo(), webhookUrl, maxAttempts: 3, backoffSeconds: 0 });
    const rows = await mine();
    expect(rows.every((n) => n.status === 'Delivered')).toBe(true);
    expect(rows.map((n) => n.attempts).sort()).toEqual([1, 1, 2]);
    expect(received).toHaveLength(3);
    expect(received[0]).toMatchObject({ type: 'certificate_expiring', threshold_days: expect.any(Number), days_left: expect.any(Number) });
    expect(new Set(received.map((r) => r.id)).size).toBe(3);
    // Nothing new, nothing resent.
    expect(await runExpiryAlerts({ repo: repo(), webhookUrl, maxAttempts: 3, backoffSeconds: 0 })).toEqual({ created: 0, attempted: 0 });
  });

  it('dead-letters a notification after max attempts', async () => {
    await pool.query(
      `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, status, expires_at)
       VALUES ($1, $1, 'dl.example.test', $2, $3, $4, $5, 'Active', now() + interval '12 hours')`,
      [`dead-${world.inv.suffix}`, world.inv.ownerId, world.inv.teamId, world.inv.issuerId, world.inv.policyId],
    );
    alwaysFail = true;
    for (let i = 0; i < 3; i++) await runExpiryAlerts({ repo: repo(), webhookUrl, maxAttempts: 3, backoffSeconds: 0 });
    alwaysFail = false;
    const dead = (await mine()).filter((n) => n.certificate_id.startsWith('dead-'));
    expect(dead.map((n) => [n.threshold_days, n.status, n.attempts])).toEqual([
      [1, 'DeadLetter', 3],
      [7, 'DeadLetter', 3],
      [30, 'DeadLetter', 3],
    ]);
    const list = (await (await world.server.request('/api/v1/notifications?status=DeadLetter')).json()) as { data: Array<{ last_error: string }> };
    expect(list.data).toHaveLength(3);
    expect(list.data[0]!.last_error).toMatch(/HTTP 503/);
  });
});
