/**
 * Deploys a certificate to files on the agent's host, the way a careful operator would:
 *
 * Step 1: skip entirely when every file already has this content (SHA-256), so a repeated
 *         deployment never reloads a service for nothing.
 * Step 2: write each file to a temp file beside it, fsync it, rename it over the target (atomic
 *         on POSIX), and fsync the directory; the previous content is kept in memory.
 * Step 3: run the validate command, then the reload command, as argument vectors (never through
 *         a shell, so no value from a target's config is interpreted).
 * From Step 2 on, any failure restores the previous files (and removes files that did not exist)
 * and reports the reason; the caller marks the job Failed with it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface DeployFile {
  path: string;
  content: string;
  /** File mode; default 0o644 (0o600 for the private key is the caller's choice). */
  mode?: number;
}

export interface DeployRequest {
  files: DeployFile[];
  /** e.g. ["nginx", "-t"]; run after writing, before reloading. */
  validateCommand?: string[] | undefined;
  /** e.g. ["nginx", "-s", "reload"]. */
  reloadCommand?: string[] | undefined;
  /** Per command; default 30 s. */
  commandTimeoutMs?: number;
}

export type DeployResult = { status: 'unchanged' } | { status: 'deployed' } | { status: 'failed'; reason: string };

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

function run(argv: string[], timeoutMs: number): Promise<void> {
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(command!, args, { timeout: timeoutMs, shell: false }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const detail = String(stderr).trim().split('\n').slice(-3).join(' | ');
      reject(new Error(`${argv.join(' ')} failed${detail ? `: ${detail}` : ` (${err.message})`}`));
    });
  });
}

export async function deployFiles(request: DeployRequest): Promise<DeployResult> {
  // Step 1
  const previous = await Promise.all(request.files.map((f) => readIfExists(f.path)));
  if (request.files.every((f, i) => previous[i] !== undefined && sha256(previous[i]!) === sha256(f.content))) {
    return { status: 'unchanged' };
  }
  const written: number[] = [];
  try {
    // Step 2
    for (const [i, file] of request.files.entries()) {
      await atomicWrite(file.path, file.content, file.mode ?? 0o644);
      written.push(i);
    }
    // Step 3
    const timeout = request.commandTimeoutMs ?? 30_000;
    if (request.validateCommand?.length) await run(request.validateCommand, timeout);
    if (request.reloadCommand?.length) await run(request.reloadCommand, timeout);
    return { status: 'deployed' };
  } catch (err) {
    for (const i of written.reverse()) {
      const file = request.files[i]!;
      const before = previous[i];
      await (before === undefined ? fs.rm(file.path, { force: true }) : atomicWrite(file.path, before, file.mode ?? 0o644)).catch(() => undefined);
    }
    return { status: 'failed', reason: (err as Error).message };
  }
}
