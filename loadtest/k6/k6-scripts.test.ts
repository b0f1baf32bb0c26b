/**
 * Every k6 script, run here without k6 (it cannot be installed on these machines): its options
 * come from its scenario definition, and its setup and default functions, run through test
 * doubles of the k6 modules (requests really sent, synchronously, to a server process), get the
 * statuses the script expects, flows included. A wrong path, header, payload or flow step fails
 * here rather than in a user's run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withClient } from '../../test/support/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { startNginx, type TestNginx } from '../../test/support/nginx.ts';
import { serve, type CertfleetProcess } from '../../test/support/process.ts';
import { adminKey, testEncryptionKey } from '../../test/support/server.ts';
import { runSeed } from '../driver/seed.ts';
import exec from './double/execution.ts';
import { recorded } from './double/http.ts';

const seed = 'k6-test-seed';
// A separate process: the k6/http double's get() is synchronous (like k6's) and would block an
// in-process server's event loop.
let server: CertfleetProcess & { url: string };
let db: TestDatabase;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-k6-'));
// A script per scenario definition (common.js and acme.js are their shared helpers).
const scripts = fs.readdirSync(import.meta.dirname).filter((f) => f.endsWith('.js') && fs.existsSync(path.join(import.meta.dirname, '../scenarios', f)));

beforeAll(async () => {
  db = await createTestDatabase();
  await runSeed(db.url, 'agents.sql', 20, seed);
  await runSeed(db.url, 'certificates.sql', 20, seed);
  await runSeed(db.url, 'fleet.sql', 20, seed);
  await runSeed(db.url, 'acme.sql', 20, seed);
  server = await serve({
    DATABASE_URL: db.url,
    CERTFLEET_HOST: '127.0.0.1',
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_DATA_DIR: dataDir,
  });
  (globalThis as { __ENV?: Record<string, string> }).__ENV = {
    BASE_URL: server.url,
    SEED: seed,
    ADMIN_KEY: adminKey,
    AGENTS: '20',
    CERTIFICATES: '20',
    FLEET: '20',
    ACME: '20',
  };
});
let nginx: TestNginx | undefined;
const daemon = async () => (nginx ??= await startNginx(path.join(dataDir, 'nginx')));

afterAll(async () => {
  await nginx?.stop();
  server.child.kill('SIGTERM');
  await server.exited;
  await db.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// Every script starts from the seeded state: no renewal left open by the one before.
beforeEach(() => withClient(db.url, (c) => c.query("UPDATE jobs SET status = 'Cancelled' WHERE status IN ('Pending', 'AwaitingCSR', 'Running')")));

describe.each(scripts)('loadtest/k6/%s', (file) => {
  it('builds k6 options from its scenario, with thresholds', async () => {
    const mod = (await import(path.join(import.meta.dirname, file))) as {
      options: { scenarios: Record<string, { executor: string }>; thresholds: Record<string, string[]> };
    };
    const scenario = (await import(path.join(import.meta.dirname, '../scenarios', file))) as {
      default: { name: string; thresholds: Record<string, string[]> };
    };
    expect(Object.keys(mod.options.scenarios)).toContain(scenario.default.name);
    expect(Object.values(mod.options.thresholds).flat()).toEqual(Object.values(scenario.default.thresholds).flat());
  });

  it('sends requests the real server answers as the script expects', async () => {
    const mod = (await import(path.join(import.meta.dirname, file))) as { default: (data?: unknown) => void | Promise<void>; setup?: () => unknown };
    const kind = ((await import(path.join(import.meta.dirname, '../scenarios', file))) as { default: { kind?: string } }).default.kind;
    // A handshake script's target is a TLS daemon, not certfleet: a real nginx on loopback.
    const target = kind === 'handshake' ? `https://127.0.0.1:${(await daemon()).port}/` : server.url;
    (globalThis as { __ENV?: Record<string, string> }).__ENV!.TARGET_URL = target;
    const data = mod.setup?.(); // real requests (synchronous, like k6's)
    recorded.length = 0;
    for (let i = 0; i < 10; i++) {
      exec.scenario.iterationInTest = i;
      await mod.default(data);
    }
    expect(recorded.length).toBeGreaterThanOrEqual(10);
    for (const r of recorded) {
      expect(r.url.startsWith(target)).toBe(true);
      expect(r.expected, `${r.method} ${r.url}: ${r.status} ${r.body}`).toContain(r.status);
    }
  });
});
