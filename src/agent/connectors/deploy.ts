/**
 * Carries out a connector's deployment plan the way a careful operator would, and writes down
 * what it did (the report the agent sends with the job's outcome):
 *
 * Step 1: compare each file with what is there (SHA-256). When nothing changed and the daemon
 *         already serves the leaf (or nothing checks it), stop: a repeated deployment never
 *         reloads a service for nothing. When nothing changed but the daemon serves another
 *         leaf (an earlier reload failed or was lost), go on from Step 3 without writing.
 * Step 2: write each changed file to a temp file beside it, fsync it, rename it over the target
 *         (atomic on POSIX), fsync the directory; the previous content is kept in memory.
 * Step 3: run the validate command (argv, never a shell: no config value is interpreted).
 * Step 4: tell the daemon: the reload command, or HAProxy's runtime API (set + commit).
 * Step 5: check what the daemon serves now over TLS, until it is the new leaf or the deadline.
 * A failure in Steps 2-4 restores the previous files (and removes files that did not exist), so
 * the daemon keeps serving the old certificate from files that match it. A Step 5 failure
 * leaves the validated files in place: the retry finds them unchanged and reloads again.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { updateHaproxyCertificate } from './haproxy-runtime-api.ts';
import { waitForServedLeaf, type ServedLeafCheck, type ServedLeaf } from './served-leaf.ts';

export interface DeployFile {
  path: string;
  content: string;
  /** File mode; default 0o644 (0o600 for anything holding the private key). */
  mode?: number;
}

export type ConnectorName = 'file' | 'nginx' | 'apache' | 'haproxy';

export interface DeploymentPlan {
  connector: ConnectorName;
  files: DeployFile[];
  /** e.g. ["nginx", "-t"]: run after writing, before the daemon is told. */
  validateCommand?: string[] | undefined;
  /** e.g. ["nginx", "-s", "reload"]. */
  reloadCommand?: string[] | undefined;
  /** HAProxy: load `pem` into the running process as the certificate named `certPath`. */
  runtimeApi?: { socket: string; certPath: string; pem: string } | undefined;
  /** The leaf the daemon must serve afterwards. */
  verify?: ServedLeafCheck | undefined;
  /** Per command; default 30 s. */
  commandTimeoutMs?: number;
}

export interface CommandRun {
  argv: string[];
  /** null when it did not run to an exit (not found, timed out, killed by a signal). */
  exit_code: number | null;
  duration_ms: number;
  /** Its last lines of output (stderr, else stdout). */
  output: string;
}

export interface DeploymentReport {
  connector: ConnectorName;
  files: Array<{ path: string; sha256: string; changed: boolean }>;
  commands: CommandRun[];
  runtime_api?: { socket: string; responses: string[] };
  served?: ServedLeaf;
  rolled_back: boolean;
  duration_ms: number;
}

export type DeploymentOutcome = { status: 'deployed' | 'unchanged'; report: DeploymentReport } | { status: 'failed'; reason: string; report: DeploymentReport };

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function atomicWrite(file: string, content: string | Buffer, mode: number): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  const dirHandle = await fs.open(dir, 'r');
  try {
    await dirHandle.sync(); // the rename itself is durable
  } finally {
    await dirHandle.close();
  }
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' | ').slice(0, 2000);

/** Runs argv (no shell); records the run; rejects with the daemon's own words on failure. */
function run(argv: string[], timeoutMs: number, runs: CommandRun[]): Promise<void> {
  const [command, ...args] = argv;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command!, args, { timeout: timeoutMs, shell: false }, (err, stdout, stderr) => {
      const output = lastLines(String(stderr) || String(stdout));
      const exitCode = !err ? 0 : typeof err.code === 'number' ? err.code : null;
      runs.push({ argv, exit_code: exitCode, duration_ms: Math.round(performance.now() - started), output });
      if (!err) return resolve();
      reject(new Error(`${argv.join(' ')} failed${output ? `: ${output}` : ` (${err.message})`}`));
    });
  });
}

export async function deploy(plan: DeploymentPlan): Promise<DeploymentOutcome> {
  const started = performance.now();
  const report: DeploymentReport = { connector: plan.connector, files: [], commands: [], rolled_back: false, duration_ms: 0 };
  const done = <T extends DeploymentOutcome>(outcome: T): T => ((report.duration_ms = Math.round(performance.now() - started)), outcome);
  const failed = (reason: string) => done({ status: 'failed' as const, reason, report });

  // Step 1
  const previous = await Promise.all(plan.files.map((f) => readIfExists(f.path)));
  const changed = plan.files.map((f, i) => previous[i] === undefined || sha256(previous[i]!) !== sha256(f.content));
  report.files = plan.files.map((f, i) => ({ path: f.path, sha256: sha256(f.content), changed: changed[i]! }));
  if (!changed.includes(true)) {
    if (!plan.verify) return done({ status: 'unchanged', report });
    report.served = await waitForServedLeaf({ ...plan.verify, timeoutMs: 0 });
    if (report.served.matches) return done({ status: 'unchanged', report });
  }
  const written: number[] = [];
  try {
    // Step 2
    for (const [i, file] of plan.files.entries()) {
      if (!changed[i]) continue;
      await atomicWrite(file.path, file.content, file.mode ?? 0o644);
      written.push(i);
    }
    const timeout = plan.commandTimeoutMs ?? 30_000;
    // Step 3
    if (plan.validateCommand?.length) await run(plan.validateCommand, timeout, report.commands);
    // Step 4
    if (plan.runtimeApi) {
      report.runtime_api = { socket: plan.runtimeApi.socket, responses: [] };
      await updateHaproxyCertificate(plan.runtimeApi, report.runtime_api.responses);
    }
    if (plan.reloadCommand?.length) await run(plan.reloadCommand, timeout, report.commands);
  } catch (err) {
    for (const i of written.reverse()) {
      const file = plan.files[i]!;
      const before = previous[i];
      await (before === undefined ? fs.rm(file.path, { force: true }) : atomicWrite(file.path, before, file.mode ?? 0o644)).catch(() => undefined);
    }
    report.rolled_back = written.length > 0;
    return failed((err as Error).message);
  }
  // Step 5
  if (plan.verify) {
    report.served = await waitForServedLeaf(plan.verify);
    if (!report.served.matches) {
      const { address, serial, error } = report.served;
      return failed(
        serial
          ? `${address} still serves serial ${serial}, not the deployed ${plan.verify.expectedSerial}, after ${plan.verify.timeoutMs} ms`
          : `no TLS handshake with ${address} succeeded after the reload: ${error ?? 'unknown error'}`,
      );
    }
  }
  return done({ status: 'deployed', report });
}
