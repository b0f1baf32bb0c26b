/**
 * A saturated signing queue answers 503 with Retry-After instead of queueing without bound:
 * one worker thread, a queue of one, and a burst of concurrent issuances. Every request gets
 * 201 or 503 (never a 500 or a hang), and the 201s are real certificates.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateBody, seedInventory, type Inventory } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let inv: Inventory;

beforeAll(async () => {
  server = await startTestServer({ CERTFLEET_WORKER_THREADS: '1', CERTFLEET_WORKER_QUEUE_MAX: '1' });
  inv = await seedInventory(server.db.url);
});
afterAll(() => server.close());

describe('worker pool saturation', () => {
  it('sheds load with 503 + Retry-After when the queue is full', async () => {
    const csr = execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:4096', '-nodes', '-subj', '/CN=x', '-keyout', '/dev/null'], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await server.request('/api/v1/certificates', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(certificateBody(inv, `burst-${inv.suffix}-${i}`)),
      });
      ids.push(((await res.json()) as { id: string }).id);
    }
    // Warm the worker so the burst measures the queue, not thread start-up.
    await server.request(`/api/v1/certificates/${ids[0]}/csr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csr_pem: csr }) });
    const responses = await Promise.all(
      ids.slice(1).map((id) =>
        server.request(`/api/v1/certificates/${id}/csr`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ csr_pem: csr }) }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 503), statuses.join(',')).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
    const shed = responses.find((r) => r.status === 503)!;
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(((await shed.json()) as { code: string }).code).toBe('CF_ERR_UNAVAILABLE');
  });
});
