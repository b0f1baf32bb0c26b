/**
 * A saturated signing queue answers 503 with Retry-After instead of queueing without bound:
 * one worker thread, a queue of one, and a burst of concurrent issuances. Every request gets
 * 201 or 503 (never a 500 or a hang), and the 201s are real certificates.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { certificateBody } from '../support/fixtures.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ env: { CERTFLEET_WORKER_THREADS: '1', CERTFLEET_WORKER_QUEUE_MAX: '1' } });

describe('worker pool saturation', () => {
  it('sheds load with 503 + Retry-After when the queue is full', async () => {
    const csr = execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:4096', '-nodes', '-subj', '/CN=x', '-keyout', '/dev/null'], {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const post = (p: string, body: unknown) =>
      world.server.request(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let burst = 0;
    const statuses: number[] = [];
    let shed: Response | undefined;
    // Bounded: up to 5 bursts of 40. Whether one burst saturates depends on scheduling (other
    // test files share the CPU), so burst until the queue overflows once.
    while (!shed && burst < 5) {
      burst++;
      const ids: string[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await post('/api/v1/certificates', certificateBody(world.inv, `burst-${world.inv.suffix}-${burst}-${i}`));
        ids.push(((await res.json()) as { id: string }).id);
      }
      const responses = await Promise.all(ids.map((id) => post(`/api/v1/certificates/${id}/csr`, { csr_pem: csr })));
      statuses.push(...responses.map((r) => r.status));
      shed = responses.find((r) => r.status === 503);
    }
    expect(
      statuses.every((s) => s === 201 || s === 503),
      statuses.join(','),
    ).toBe(true);
    expect(shed, `no 503 in ${burst} bursts`).toBeDefined();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
    expect(shed!.headers.get('retry-after')).toBe('1');
    expect(((await shed!.json()) as { code: string }).code).toBe('CF_ERR_UNAVAILABLE');
  });
});
