/**
 * The server under load: a real `certfleet serve` child process on an embedded PostgreSQL (fsync
 * on, as in production: every acknowledged write is durable) in its own data directory, or an
 * already running server given by --url (then --database-url is needed to seed). With
 * `replicas: N`, N `certfleet serve` processes share that PostgreSQL and one encryption key, each
 * on its own port, as a fleet scaled out behind a load balancer would run (docs/operator/scale.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedPostgres, findFreePort } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import pino from 'pino';
import { createLogger } from '../../src/observability/logger.ts';
import { statementSettings } from './statements.ts';
import { answers, stopChild, untilServing } from './child-process.ts';

const bin = path.resolve(import.meta.dirname, '../../bin/certfleet.js');

export interface Target {
  /** The first replica's URL. */
  url: string;
  /** Every replica's URL (one when not scaled out). */
  urls: string[];
  /** certfleet's PostgreSQL (seeds, checks, database cost); none for Pebble. */
  databaseUrl?: string;
  adminKey: string;
  /** The ACME directory's path when not certfleet's /acme/directory (Pebble's /dir). */
  acmeDirectory?: string;
  /** The new-nonce path when not certfleet's /acme/new-nonce (Pebble's /nonce-plz). */
  acmeNewNonce?: string;
  stop(): Promise<void>;
}

export interface StartTargetOptions {
  dataDir: string;
  /** Extra environment for the server (tuning knobs under test). */
  env?: Record<string, string>;
  /** Extra node flags for the server, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] (NODE_OPTIONS refuses those). */
  nodeArgs?: string[];
  /** Keep the server's stdout (its log) in this file (replica n > 1 in `<file>.<n>`). */
  logFile?: string;
  /** Server processes on the one PostgreSQL; default 1. */
  replicas?: number;
  /**
   * Keep PostgreSQL's own log in this file, with checkpoints, lock waits, autovacuum runs and
   * statements slower than 200 ms logged: what a latency tail lines up with.
   */
  postgresLog?: string;
  /** Preload pg_stat_statements (`--statements`, statements.ts). */
  statements?: boolean;
}

/** What PostgreSQL logs for --postgres-log. */
const diagnosticSettings = {
  log_checkpoints: 'on',
  log_lock_waits: 'on',
  log_autovacuum_min_duration: '0',
  log_min_duration_statement: '200',
  log_line_prefix: '%m [%p] %a ',
};

export async function startTarget(options: StartTargetOptions): Promise<Target & { databaseUrl: string }> {
  const log = createLogger({ level: 'warn' });
  // The embedded server hands PostgreSQL's lines to its logger at debug level.
  const pg = new EmbeddedPostgres({
    rootDir: options.dataDir,
    log: options.postgresLog ? createLogger({ level: 'debug', destination: pino.destination({ dest: options.postgresLog, sync: false }) }) : log,
    settings: { ...(options.postgresLog ? diagnosticSettings : {}), ...(options.statements ? statementSettings : {}) },
  });
  const databaseUrl = await pg.start();
  const pool = createPool({ connectionString: databaseUrl, max: 2, log });
  await migrate(pool, log);
  await pool.end();
  const adminKey = `load-admin-${randomBytes(16).toString('hex')}`;
  // Replicas must share the key their CA keys are sealed with (each would generate its own).
  const encryptionKey = randomBytes(32).toString('hex');
  let firstPort: string | undefined;
  const children: ChildProcess[] = [];
  // However the driver ends (an uncaught error, process.exit), its replicas end with it: a crashed
  // driver once left a server running for an hour beside the next runs.
  const killOnExit = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killOnExit);
  // Behind a load balancer every replica has one public URL (ACME account URLs, the JWS "url"
  // a client signs, CRL locations): here, the first replica's, on a port chosen up front.
  let shared: Record<string, string> = {};
  if ((options.replicas ?? 1) > 1 && !options.env?.CERTFLEET_PUBLIC_URL) {
    const port = await findFreePort();
    shared = { CERTFLEET_PUBLIC_URL: `${options.env?.CERTFLEET_TLS_CERT_PATH ? 'https' : 'http'}://127.0.0.1:${port}` };
    firstPort = String(port);
  }
  try {
    const scheme = options.env?.CERTFLEET_TLS_CERT_PATH ? 'https' : 'http';
    const start = async (n: number) => {
      // Every replica's port chosen here, and readiness from /health: the server's log level is
      // the run's to choose (--server-env CERTFLEET_LOG_LEVEL=warn prints no "listening" line).
      const port = n === 1 && firstPort ? firstPort : String(await findFreePort());
      const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, 'serve'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/',
          DATABASE_URL: databaseUrl,
          CERTFLEET_HOST: '127.0.0.1',
          CERTFLEET_PORT: port,
          CERTFLEET_DATA_DIR: options.dataDir,
          CERTFLEET_ADMIN_API_KEY: adminKey,
          CERTFLEET_ENCRYPTION_KEY: encryptionKey,
          ...shared,
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      const url = `${scheme}://127.0.0.1:${port}`;
      return untilServing(child, { what: 'certfleet serve', probe: answers(`${url}/health`), timeoutMs: 60_000 }).then(() => {
        // From here on the server's log is drained (or kept in a file) and never parsed: a slow
        // reader would fill the pipe and make the server wait on its own log writes (measured: 37%
        // of its main thread in writev during the issuance scenario before this).
        if (options.logFile) child.stdout!.pipe(fs.createWriteStream(n === 1 ? options.logFile : `${options.logFile}.${n}`));
        else child.stdout!.resume();
        return url;
      });
    };
    // The first replica alone first: it creates what every replica shares (instance secrets,
    // the bootstrap key, the local CA), so the others start as later replicas do.
    const urls = [await start(1)];
    urls.push(...(await Promise.all(Array.from({ length: (options.replicas ?? 1) - 1 }, (_, i) => start(i + 2)))));
    return {
      url: urls[0]!,
      urls,
      databaseUrl,
      adminKey,
      async stop() {
        await Promise.all(children.map(stopChild));
        process.off('exit', killOnExit);
        await pg.stop();
      },
    };
  } catch (err) {
    killOnExit();
    process.off('exit', killOnExit);
    await pg.stop();
    throw err;
  }
}
