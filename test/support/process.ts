/** Runs the real `certfleet` executable as a child process and reads its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll } from 'vitest';

export const certfleetBin = path.resolve(import.meta.dirname, '../../bin/certfleet.js');

export interface CertfleetProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the first stdout JSON line that satisfies `match`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (signal exits as 128 + n). */
  exited: Promise<number>;
}

const children = new Set<ChildProcess>();
// A failing test must not leave servers behind: whatever a test file started dies with it.
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * `script`: another entry point than bin/certfleet.js (the agent bundle, dist/certfleet-agent.cjs,
 * or an installed package's bin); `cwd`: the directory it starts in (default: this one).
 */
export function runCertfleet(args: string[], env: Record<string, string>, script: string = certfleetBin, cwd?: string): CertfleetProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/',
      ...(process.env.CERTFLEET_HTTP_ENGINE ? { CERTFLEET_HTTP_ENGINE: process.env.CERTFLEET_HTTP_ENGINE } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: string[] = [];
  let stderr = '';
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      stdout.push(line);
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (w.match(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15))));
  return {
    child,
    stdout,
    stderr: () => stderr,
    exited,
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`log line not seen in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`certfleet exited (${code}) before the log line; stderr: ${stderr.slice(-2000)}`));
        });
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

/** Starts `certfleet serve` and resolves with its base URL once it listens. */
export async function serve(env: Record<string, string>, script?: string, cwd?: string): Promise<CertfleetProcess & { url: string }> {
  const proc = runCertfleet(['serve'], { CERTFLEET_PORT: '0', ...env }, script, cwd);
  const line = await proc.waitForLog((l) => l.msg === 'certfleet listening');
  return Object.assign(proc, { url: String(line.url) });
}
