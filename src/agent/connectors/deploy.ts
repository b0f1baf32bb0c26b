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

/** One plan's state while its group is deployed. */
class Deployment {
  readonly report: DeploymentReport;
  readonly #started = performance.now();
  previous: Array<Buffer | undefined> = [];
  changed: boolean[] = [];
  written: number[] = [];
  outcome: DeploymentOutcome | undefined;

  constructor(readonly plan: DeploymentPlan) {
    this.report = { connector: plan.connector, files: [], commands: [], rolled_back: false, duration_ms: 0 };
  }

  finish(status: 'deployed' | 'unchanged'): void;
  finish(status: 'failed', reason: string): void;
  finish(status: DeploymentOutcome['status'], reason?: string): void {
    this.report.duration_ms = Math.round(performance.now() - this.#started);
    this.outcome = status === 'failed' ? { status, reason: reason!, report: this.report } : { status, report: this.report };
  }

  /** Puts back what was there before this deployment wrote (removing files that did not exist). */
  async restore(): Promise<void> {
    for (const i of this.written.reverse()) {
      const file = this.plan.files[i]!;
      const before = this.previous[i];
      await (before === undefined ? fs.rm(file.path, { force: true }) : atomicWrite(file.path, before, file.mode ?? 0o644)).catch(() => undefined);
    }
    this.report.rolled_back = this.written.length > 0;
    this.written = [];
  }
}

function notServed(check: ServedLeafCheck, served: ServedLeaf): string {
  return served.serial
    ? `${served.address} still serves serial ${served.serial}, not the deployed ${check.expectedSerial}, after ${check.timeoutMs} ms`
    : `no TLS handshake with ${served.address} succeeded after the reload: ${served.error ?? 'unknown error'}`;
}

export function deploy(plan: DeploymentPlan): Promise<DeploymentOutcome> {
  return deployTogether([plan]).then((outcomes) => outcomes[0]!);
}

/**
 * Deploys plans that share one daemon (the same validate and reload commands: the caller groups
 * them with `sameDaemon`) with one validation and one reload for all: a renewal wave of 50
 * sites on one nginx costs one `nginx -t` and one reload, not 50. When the shared validation
 * fails, every file is restored and each plan is tried alone, so one bad deployment cannot hold
 * back the others. Outcomes are in the order of `plans`.
 */
export async function deployTogether(plans: DeploymentPlan[]): Promise<DeploymentOutcome[]> {
  const all = plans.map((plan) => new Deployment(plan));
  // Step 1
  for (const d of all) {
    const { plan, report } = d;
    d.previous = await Promise.all(plan.files.map((f) => readIfExists(f.path)));
    d.changed = plan.files.map((f, i) => d.previous[i] === undefined || sha256(d.previous[i]!) !== sha256(f.content));
    report.files = plan.files.map((f, i) => ({ path: f.path, sha256: sha256(f.content), changed: d.changed[i]! }));
    if (!d.changed.includes(true) && !plan.verify) d.finish('unchanged');
  }
  // Unchanged files: is the leaf served? A reload that is still settling (nginx's old workers
  // take a moment to stop accepting) gets up to 2 s before another reload is judged necessary.
  await Promise.all(
    all
      .filter((d) => !d.outcome && !d.changed.includes(true))
      .map(async (d) => {
        d.report.served = await waitForServedLeaf({ ...d.plan.verify!, timeoutMs: Math.min(d.plan.verify!.timeoutMs, 2_000) });
        if (d.report.served.matches) d.finish('unchanged');
      }),
  );
  let active = all.filter((d) => !d.outcome);
  const shared = active[0]?.plan;
  const timeout = shared?.commandTimeoutMs ?? 30_000;
  const commands: CommandRun[] = [];
  const fail = async (group: Deployment[], err: unknown) => {
    for (const d of group) {
      await d.restore();
      d.finish('failed', (err as Error).message);
    }
  };
  // Step 2: the deployments' files are written side by side (each waits on its own fsyncs).
  await Promise.all(
    active.map(async (d) => {
      try {
        for (const [i, file] of d.plan.files.entries()) {
          if (!d.changed[i]) continue;
          await atomicWrite(file.path, file.content, file.mode ?? 0o644);
          d.written.push(i);
        }
      } catch (err) {
        await fail([d], err);
      }
    }),
  );
  active = active.filter((d) => !d.outcome);
  // Step 3
  if (active.length && shared?.validateCommand?.length) {
    try {
      await run(shared.validateCommand, timeout, commands);
    } catch (err) {
      if (active.length === 1) {
        active[0]!.report.commands = commands;
        await fail(active, err);
      } else {
        for (const d of active) await d.restore();
        for (const d of active) d.outcome = await deploy(d.plan); // one at a time: find the bad one
      }
      active = [];
    }
  }
  // Step 4
  for (const d of active.filter((x) => x.plan.runtimeApi)) {
    d.report.runtime_api = { socket: d.plan.runtimeApi!.socket, responses: [] };
    await updateHaproxyCertificate(d.plan.runtimeApi!, d.report.runtime_api.responses).catch((err: unknown) => fail([d], err));
  }
  active = active.filter((d) => !d.outcome);
  if (active.length && shared?.reloadCommand?.length) {
    await run(shared.reloadCommand, timeout, commands).catch((err: unknown) => fail(active, err));
  }
  for (const d of active) d.report.commands = commands;
  active = active.filter((d) => !d.outcome);
  // Step 5
  await Promise.all(
    active.map(async (d) => {
      if (!d.plan.verify) return d.finish('deployed');
      d.report.served = await waitForServedLeaf(d.plan.verify);
      if (d.report.served.matches) d.finish('deployed');
      else d.finish('failed', notServed(d.plan.verify, d.report.served));
    }),
  );
  return all.map((d) => d.outcome!);
}

/** The key plans are grouped by: plans with equal keys are deployed together. */
export function sameDaemon(plan: DeploymentPlan): string | undefined {
  // Runtime-API and command-less plans gain nothing from a group.
  if (plan.runtimeApi || (!plan.validateCommand?.length && !plan.reloadCommand?.length)) return undefined;
  return JSON.stringify([plan.validateCommand ?? [], plan.reloadCommand ?? []]);
}
