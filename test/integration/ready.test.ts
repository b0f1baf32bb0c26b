/**
 * /ready follows the database: 503 while it is down, 200 again once it is back, without a
 * restart. The server runs against a PostgreSQL of its own that the test stops and restarts.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { EmbeddedPostgres, findFreePort } from '../../src/db/embedded-postgres.ts';
import { memoryLogger } from '../support/memory-log.ts';
import { untilTrue } from '../support/until.ts';

const { log } = memoryLogger('warn');
let rootDir: string;
let port: number;
let postgres: EmbeddedPostgres;
let app: RunningApp;

const fastSettings = { fsync: 'off', synchronous_commit: 'off' };

beforeAll(async () => {
  rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-ready-'));
  await fs.chmod(rootDir, 0o711);
  port = await findFreePort();
  postgres = new EmbeddedPostgres({ rootDir, port, log, settings: fastSettings });
  const url = await postgres.start();
  app = await startApp(loadConfig({ DATABASE_URL: url, CERTFLEET_PORT: '0', CERTFLEET_DATABASE_MAX_CONNS: '4' }), log);
});

afterAll(async () => {
  await app?.close();
  await postgres?.stop();
  await fs.rm(rootDir, { recursive: true, force: true });
});

const ready = () => fetch(`${app.url}/ready`);

describe('/ready', () => {
  it('goes 503 while the database is down and 200 when it returns', async () => {
    expect((await ready()).status).toBe(200);

    await postgres.stop();
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    const body = (await down.json()) as { code: string; message: string };
    expect(body.code).toBe('CF_ERR_UNAVAILABLE');
    expect(body.message).toMatch(/^database unreachable/);
    // The public probe names the failure, not where the database listens.
    expect(body.message).not.toContain(String(port));
    expect(body.message).not.toMatch(/\d+\.\d+\.\d+\.\d+/);
    // Liveness does not depend on the database.
    expect((await fetch(`${app.url}/health`)).status).toBe(200);

    postgres = new EmbeddedPostgres({ rootDir, port, log, settings: fastSettings });
    await postgres.start();
    await untilTrue('/ready to answer 200 again', async () => (await ready()).status === 200, { timeoutMs: 5_000 });
  });
});
