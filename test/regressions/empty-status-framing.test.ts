/**
 * 304 and 204 responses must be framed so a keep-alive connection stays usable: a bogus
 * Content-Length made wrk and other strict clients wait forever for a body that never comes.
 * fetch ignores the header on 304/204, so this test reads the raw bytes of one keep-alive
 * connection. (Requests are sent one after another, not pipelined: see docs/architecture.md,
 * "Known limitations", for uWS v20.30 and pipelining.)
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { adminKey } from '../support/server.ts';
import { useTestWorld } from '../support/world.ts';

const world = useTestWorld({ inventory: false });

/** Sends each request on one connection after the previous answer arrived; returns all bytes. */
async function sequential(requests: string[]): Promise<string> {
  const { port } = new URL(world.server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  let data = '';
  socket.on('data', (c) => (data += c.toString('latin1')));
  for (const request of requests) {
    const before = data.length;
    socket.write(request);
    for (let waited = 0; data.length === before && waited < 2000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50)); // let a bogus "body" arrive, if any
  }
  socket.destroy();
  return data;
}

describe('bodiless status framing', () => {
  it('keeps a keep-alive connection usable after 304 and 204', async () => {
    const list = await world.server.request('/api/v1/auth/keys');
    const etag = list.headers.get('etag')!;
    const created = (await (
      await world.server.request('/api/v1/auth/keys', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'framing', role: 'viewer' }),
      })
    ).json()) as { id: string };
    const etagAfter = (await world.server.request('/api/v1/auth/keys')).headers.get('etag')!;
    expect(etagAfter).not.toBe(etag);

    const auth = `Authorization: Bearer ${adminKey}\r\n`;
    const raw = await sequential([
      `GET /api/v1/auth/keys HTTP/1.1\r\nHost: x\r\n${auth}If-None-Match: ${etagAfter}\r\n\r\n`,
      `DELETE /api/v1/auth/keys/${created.id} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
      `GET /health HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]);
    const statuses = [...raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    expect(statuses).toEqual([304, 204, 200]);
    const [notModified = '', noContent = ''] = raw.split(/(?=HTTP\/1\.1 )/);
    for (const head of [notModified, noContent]) {
      const length = /content-length: (\d+)/i.exec(head)?.[1];
      expect(length === undefined || length === '0', head).toBe(true);
    }
    expect(raw).toMatch(/"status":"ok"/);
  });
});
