/**
 * SIGTERM during a burst of requests. The guarantee checked here: every request the server
 * started handling got a whole response, the process exits 0, and new connections are refused.
 *
 * Connections the kernel had completed but uWS had not yet accepted when the listen socket
 * closed are reset by the kernel (ECONNRESET before any response byte): the application never
 * read those requests, so, like refused connections, they are safe to retry. The test tells
 * them apart from real breakage by comparing the server's access log with what clients got.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.ts';
import { serve } from '../support/process.ts';
import { untilTrue } from '../support/until.ts';

const adminKey = 'shutdown-admin-key-0123456789';
const path = '/api/v1/auth/keys';

type Outcome = 'response' | 'refused' | 'reset-before-response' | `broken:${string}`;

/** One request on a fresh connection; resolves how it ended. */
function once(url: string, requestId: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let responded = false;
    const req = http.get(`${url}${path}`, { agent: false, headers: { authorization: `Bearer ${adminKey}`, 'x-request-id': requestId } }, (res) => {
      responded = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          JSON.parse(body);
          resolve(res.statusCode === 200 ? 'response' : `broken:status ${res.statusCode}`);
        } catch {
          resolve(`broken:truncated body (${res.statusCode})`);
        }
      });
      res.on('error', (err) => resolve(`broken:${err.message}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve('refused');
      else if (err.code === 'ECONNRESET' && !responded) resolve('reset-before-response');
      else resolve(`broken:${err.code ?? err.message}`);
    });
  });
}

describe('graceful shutdown', () => {
  it('answers every request it started, refuses new connections, and exits 0', async () => {
    const db = await createTestDatabase();
    const server = await serve({ DATABASE_URL: db.url, CERTFLEET_ADMIN_API_KEY: adminKey });
    const outcomes = new Map<string, Outcome>();
    let stopAt = Date.now() + 10_000; // bounded in time ...
    const worker = async (w: number) => {
      // ... and in count.
      for (let n = 0; n < 400 && Date.now() < stopAt; n++) {
        const id = `w${w}-${n}`;
        const outcome = await once(server.url, id);
        outcomes.set(id, outcome);
        if (outcome === 'refused') return;
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    // Signal once the burst is well under way.
    await untilTrue('20 requests of the burst answered', () => outcomes.size >= 20, { timeoutMs: 10_000, intervalMs: 20 });
    const beforeSignal = outcomes.size;
    server.child.kill('SIGTERM');
    const code = await server.exited;
    stopAt = Date.now() + 1000;
    await Promise.all(workers);
    await db.drop();

    const handled = new Set(
      server.stdout
        .map((line) => JSON.parse(line) as { msg?: string; route?: string; req_id?: string })
        .filter((l) => l.msg === 'request' && l.route === path)
        .map((l) => l.req_id!),
    );
    const answered = [...outcomes].filter(([, o]) => o === 'response').map(([id]) => id);
    const lostAfterHandling = [...outcomes].filter(([id, o]) => o !== 'response' && handled.has(id));

    expect(code).toBe(0);
    expect(server.stderr()).toBe('');
    expect(beforeSignal).toBeGreaterThanOrEqual(20);
    expect([...outcomes.values()].filter((o) => o.startsWith('broken'))).toEqual([]);
    expect(lostAfterHandling).toEqual([]);
    expect(answered.every((id) => handled.has(id))).toBe(true);
    expect(handled.size).toBe(answered.length);
    expect([...outcomes.values()].filter((o) => o === 'refused').length).toBeGreaterThan(0);
    expect(server.stdout.some((l) => l.includes('"shutdown complete"'))).toBe(true);
  });

  it('answers a work poll waiting for work at once, empty, and exits 0', async () => {
    const db = await createTestDatabase();
    const bootstrap = 'bootstrap-token-0123456789abcdef';
    const server = await serve({ DATABASE_URL: db.url, CERTFLEET_ADMIN_API_KEY: adminKey, CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap });
    const registered = await fetch(`${server.url}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bootstrap}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'waiting-at-shutdown' }),
    });
    const agent = (await registered.json()) as { id: string; api_key: string };
    const poll = fetch(`${server.url}/api/v1/agents/${agent.id}/work?wait=50`, { headers: { authorization: `Bearer ${agent.api_key}` } });
    await untilTrue('the poll to wait', async () => /^certfleet_agent_work_polls_waiting 1$/m.test(await (await fetch(`${server.url}/metrics`)).text()), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const signalled = performance.now();
    server.child.kill('SIGTERM');
    const answer = await poll;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ csr: [], deployments: [] });
    expect(await server.exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(5_000);
    await db.drop();
  });
});
