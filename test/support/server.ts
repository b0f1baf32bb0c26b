/** Starts the real server (startApp) on 127.0.0.1, a free port, and a fresh test database. */
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/schema.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { memoryLogger } from './memory-log.ts';

export const adminKey = 'test-admin-key-0123456789abcdef';
export const testEncryptionKey = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

export interface TestServer {
  url: string;
  app: RunningApp;
  db: TestDatabase;
  logLines: string[];
  /** fetch against the server with the admin key unless `auth` says otherwise. */
  request(path: string, init?: RequestInit & { auth?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const db = await createTestDatabase();
  const config = loadConfig({
    DATABASE_URL: db.url,
    CERTFLEET_HOST: '127.0.0.1',
    CERTFLEET_PORT: '0',
    CERTFLEET_ADMIN_API_KEY: adminKey,
    CERTFLEET_DATABASE_MAX_CONNS: '10',
    // Never generate an encryption key into the repository's ./.certfleet from a test.
    CERTFLEET_ENCRYPTION_KEY: testEncryptionKey,
    CERTFLEET_WORKER_THREADS: '1',
    // `CERTFLEET_HTTP_ENGINE=node npm test` runs every server of the suite on the node:http engine.
    ...(process.env.CERTFLEET_HTTP_ENGINE ? { CERTFLEET_HTTP_ENGINE: process.env.CERTFLEET_HTTP_ENGINE } : {}),
    ...env,
  });
  const { log, lines } = memoryLogger('debug');
  const app = await startApp(config, log);
  let closing: Promise<void> | undefined;
  return {
    url: app.url,
    app,
    db,
    logLines: lines,
    request(path, init = {}) {
      const { auth = adminKey, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (auth !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${auth}`);
      return fetch(`${app.url}${path}`, { ...rest, headers });
    },
    /** Idempotent: a test may stop the server itself before its world's teardown does. */
    close() {
      closing ??= app.close().then(() => db.drop());
      return closing;
    },
  };
}
