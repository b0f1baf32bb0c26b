/**
 * Which HTTP engine serves (CERTFLEET_HTTP_ENGINE): uWebSockets.js where its binary loads (Node.js
 * 16-20), certfleet's node:http engine elsewhere (Node.js 22, 24), loudly. This file runs on both
 * runtimes: `npm test` runs it on Node.js 20, then again on Node.js 24 (scripts/test-node24.sh),
 * so each branch below is exercised by one of the two runs. The rest of the HTTP behaviour is
 * the same suite run on both engines (CERTFLEET_HTTP_ENGINE=node npm test passes too).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

const require = createRequire(import.meta.url);
const uwsDir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
/** Whether the republication ships a binary for this Node.js ABI. */
const binaryShipped = fs.existsSync(path.join(uwsDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function engineOf(s: TestServer): Promise<{ name: string; version: string }> {
  const health = (await (await s.request('/health')).json()) as { http_engine: { name: string; version: string } };
  const metrics = await (await s.request('/metrics')).text();
  expect(metrics).toContain(`certfleet_http_engine_info{engine="${health.http_engine.name}",version="${health.http_engine.version}"} 1`);
  return health.http_engine;
}

describe(`HTTP engine on Node.js ${process.version}`, () => {
  it('auto: uWebSockets.js when its binary loads, else node:http with a warning naming why', async () => {
    server = await startTestServer({ CERTFLEET_HTTP_ENGINE: 'auto' });
    const engine = await engineOf(server);
    const warning = server.logLines.find((l) => l.includes('serving with the node:http fallback'));
    if (binaryShipped) {
      expect(engine.name).toBe('uWebSockets.js');
      expect(warning).toBeUndefined();
    } else {
      expect(engine).toEqual({ name: 'node:http', version: process.versions.node });
      expect(warning).toMatch(/"reason":"[^"]+"/);
    }
  });

  it('uws: refuses to start without the binary, naming the variable', async () => {
    if (binaryShipped) {
      server = await startTestServer({ CERTFLEET_HTTP_ENGINE: 'uws' });
      expect((await engineOf(server)).name).toBe('uWebSockets.js');
    } else {
      await expect(startTestServer({ CERTFLEET_HTTP_ENGINE: 'uws' })).rejects.toThrow(
        new RegExp(`CERTFLEET_HTTP_ENGINE=uws: the uWebSockets.js binary does not load on Node.js ${process.version.replaceAll('.', '\\.')}`),
      );
    }
  });

  it('node: serves the API through node:http whatever the runtime', async () => {
    server = await startTestServer({ CERTFLEET_HTTP_ENGINE: 'node' });
    expect(await engineOf(server)).toEqual({ name: 'node:http', version: process.versions.node });
    // Routing as uWS does it: a static segment wins over a parameter, the catch-all answers the rest.
    const keys = await server.request('/api/v1/auth/keys');
    expect(keys.status).toBe(200);
    expect((await server.request('/api/v1/auth/keys/ak-none')).status).toBe(404);
    expect((await server.request('/api/v1/auth/keys', { method: 'PUT' })).status).toBe(405);
    const list = await server.request('/api/v1/certificates?per_page=1&status=Active');
    expect(list.status).toBe(200);
    expect(await server.request('/api/v1/certificates?per_page=1&status=Active', { headers: { 'if-none-match': list.headers.get('etag')! } })).toMatchObject({
      status: 304,
    });
  });

  it('rejects an unknown engine name at start', async () => {
    await expect(startTestServer({ CERTFLEET_HTTP_ENGINE: 'fast' })).rejects.toThrow(/CERTFLEET_HTTP_ENGINE: must be one of auto, uws, node/);
  });
});
