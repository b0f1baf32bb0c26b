/**
 * Issue 12, finding 3: 100 audit exports that never read their response held pool connections
 * for ~16 s each; 16 of 39 unrelated requests got 500 and admin writes failed. Now exports run
 * on a pool of their own, at most 2 per key and CERTFLEET_EXPORT_CONCURRENCY in all (429
 * beyond), and a reader that accepts nothing for the stall deadline is cut off, without the
 * completion line, so a truncated export never looks complete.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let viewerKey: string;

beforeAll(async () => {
  server = await startTestServer({
    CERTFLEET_DATABASE_MAX_CONNS: '4',
    CERTFLEET_EXPORT_CONCURRENCY: '2',
    CERTFLEET_STREAM_STALL_TIMEOUT_MS: '1500',
  });
  // ~25 MB of NDJSON: far more than loopback socket buffers hold, so a reader that stops stalls the stream.
  await withClient(server.db.url, async (client) => {
    await client.query(
      `INSERT INTO audit_events (seq, id, actor, actor_type, action, resource_type, resource_id, details, "timestamp", category, prev_hash, row_hash)
       SELECT g, 'audit-bulk-' || g, 'ak-bulk', 'APIKey', 'certificate_updated', 'certificate', 'cert-' || g,
              jsonb_build_object('fields', jsonb_build_array('tags', 'sans'), 'padding', repeat('x', 200)), now(), 'cert_lifecycle',
              repeat('a', 64), repeat('b', 64)
         FROM generate_series(1000001, 1060000) AS g`,
    );
  });
  const res = await server.request('/api/v1/auth/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'viewer', role: 'viewer' }),
  });
  viewerKey = ((await res.json()) as { key: string }).key;
});
afterAll(() => server.close());

/**
 * Starts an export, reads only the status line, then stops reading. `drain()` resumes reading
 * and resolves with everything that arrived once the server has closed the connection.
 */
function stalledExport(key: string): Promise<{ status: number; drain: () => Promise<string> }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    const drain = async () => {
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.resume();
      await closed;
      return received;
    };
    socket.once('data', (chunk) => {
      socket.pause();
      received = chunk.toString('latin1');
      resolve({ status: Number(received.split(' ')[1]), drain });
    });
    socket.write(`GET /api/v1/audit/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`);
    setTimeout(() => reject(new Error('no response to an export')), 10_000);
  });
}

describe('audit exports and slow readers', () => {
  it('never starve other requests, cap concurrency with 429, and cut stalled readers off', async () => {
    const exports = await Promise.all(Array.from({ length: 20 }, () => stalledExport(viewerKey)));
    const statuses = exports.map((e) => e.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(18);

    // Unrelated requests, reads and admin writes, all succeed while the two exports stall.
    const results = await Promise.all(
      Array.from({ length: 39 }, (_, i) =>
        i % 3 === 0
          ? server.request('/api/v1/teams', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `busy-${i}` }) })
          : server.request('/api/v1/certificates?per_page=5'),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 200 && s !== 201)).toEqual([]);

    // The stalled ones are cut off after the deadline, freeing their slots: what a reader gets
    // then ends without the completion line and without the terminating chunk.
    await new Promise((r) => setTimeout(r, 2_500));
    for (const stalled of exports.filter((e) => e.status === 200)) {
      const body = await stalled.drain();
      expect(body).not.toContain('"complete":true');
      expect(body.endsWith('0\r\n\r\n')).toBe(false);
    }
    const full = await server.request('/api/v1/audit/export?resource_type=team', { auth: viewerKey });
    expect(full.status).toBe(200);
    const lines = (await full.text()).trim().split('\n');
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual({ complete: true, events: lines.length - 1 });
  });

  it('answers HEAD with the headers only, without running the export', async () => {
    const res = await server.request('/api/v1/audit/export', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(await res.text()).toBe('');
    // The connection stays usable for the next request.
    expect((await server.request('/health')).status).toBe(200);
  });
});
