/**
 * The server under load: a real `certfleet serve` child process on an embedded PostgreSQL (fsync
 * on, as in production: every acknowledged write is durable) in its own data directory, or an
 * already running server given by --url (then --database-url is needed to seed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/observability/logger.ts';

const bin = path.resolve(import.meta.dirname, '../../bin/certfleet.js');

export interface Target {
  url: string;
  databaseUrl: string;
  adminKey: string;
  stop(): Promise<void>;
}

export interface StartTargetOptions {
  dataDir: string;
  /** Extra environment for the server (tuning knobs under test). */
  env?: Record<string, string>;
  /** Extra node flags for the server, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] (NODE_OPTIONS refuses those). */
  nodeArgs?: string[];
  /** Keep the server's stdout (its log) in this file. */
  logFile?: string;
}

export async function startTarget(options: StartTargetOptions): Promise<Target> {
  const log = createLogger({ level: 'warn' });
  const pg = new EmbeddedPostgres({ rootDir: options.dataDir, log });
  const databaseUrl = await pg.start();
  const pool = createPool({ connectionString: databaseUrl, max: 2, log });
  await migrate(pool, log);
  await pool.end();
  const adminKey = `load-admin-${randomBytes(16).toString('hex')}`;
  let child: ChildProcess | undefined;
  try {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/',
        DATABASE_URL: databaseUrl,
        CERTFLEET_HOST: '127.0.0.1',
        CERTFLEET_PORT: '0',
        CERTFLEET_DATA_DIR: options.dataDir,
        CERTFLEET_ADMIN_API_KEY: adminKey,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await listeningUrl(child);
    // From here on the server's log is drained (or kept in a file) and never parsed: a slow
    // reader would fill the pipe and make the server wait on its own log writes (measured: 37%
    // of its main thread in writev during the issuance scenario before this).
    if (options.logFile) child.stdout!.pipe(fs.createWriteStream(options.logFile));
    else child.stdout!.resume();
    return {
      url,
      databaseUrl,
      adminKey,
      async stop() {
        if (child && child.exitCode === null) {
          const exited = new Promise((resolve) => child!.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
        await pg.stop();
      },
    };
  } catch (err) {
    child?.kill('SIGKILL');
    await pg.stop();
    throw err;
  }
}

/** The URL from the server's "certfleet listening" line (its log level must let it through). */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      const match = /"url":"([^"]+)"[^\n]*"msg":"certfleet listening"/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        child.stdout!.removeListener('data', onData);
        child.stdout!.pause();
        resolve(match[1]!);
      }
    };
    const timer = setTimeout(() => reject(new Error('certfleet serve did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`certfleet serve exited with ${code}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
  });
}
