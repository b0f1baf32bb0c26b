/**
 * `npm run loadtest -- <scenario> --compare <git-ref> [--rounds N] [other options]`: runs the
 * scenario against a worktree of <git-ref> and against the current tree, alternating (ref,
 * current, ref, current ...) so drift in the machine's speed hits both alike, then prints both
 * sets of figures, their medians and the ratio current / ref. Every other option is passed to
 * both runs unchanged. Both use the current tree's scenario definitions and seeds, so only the
 * server's code differs. Machines here differ by 3x between sessions: only ratios measured side
 * by side like this say what a change did.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

interface RunFigures {
  achieved: number;
  p50: number;
  p99: number;
  failedRate: number;
  /** Flow scenarios: HTTP requests per completed flow. */
  requestsPerFlow?: number;
  ok: boolean;
}

/** One side of a side-by-side run: the driver run in `cwd` with `args` (and `env` added). */
export interface Side {
  label: string;
  cwd: string;
  args: string[];
  env?: Record<string, string>;
}

export interface CompareOptions {
  scenario: string;
  ref: string;
  rounds: number;
  /** Driver arguments other than the scenario, --compare, --rounds and --out. */
  args: string[];
}

export async function compare(o: CompareOptions): Promise<number> {
  const commit = git(['rev-parse', '--verify', `${o.ref}^{commit}`]).trim();
  const label = `${o.ref} (${commit.slice(0, 8)})`;
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'certfleet-compare-'));
  // As root, the embedded PostgreSQL runs as the postgres user: it must reach the binaries.
  fs.chmodSync(tree, 0o755);
  git(['worktree', 'add', '--detach', tree, commit]);
  try {
    prepareDependencies(tree);
    // One workload for both: the current scenario definitions and seeds replace the ref's, so
    // only the server's code differs (and a scenario newer than the ref still runs there).
    for (const dir of ['loadtest/scenarios', 'loadtest/seed']) {
      fs.rmSync(path.join(tree, dir), { recursive: true, force: true });
      fs.cpSync(path.join(root, dir), path.join(tree, dir), { recursive: true });
    }
    const args = [o.scenario, ...o.args];
    await sideBySide(o.scenario, o.rounds, [
      { label, cwd: tree, args },
      { label: 'current', cwd: root, args },
    ]);
    return 0;
  } finally {
    git(['worktree', 'remove', '--force', tree]);
  }
}

/**
 * Runs each side once per round, alternating (a, b, a, b ...), then prints every run's figures,
 * the medians' ratio second / first, and returns the figures.
 */
export async function sideBySide(scenario: string, rounds: number, sides: [Side, Side]): Promise<Record<string, RunFigures[]>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'certfleet-compare-out-'));
  try {
    const results: RunFigures[][] = [[], []];
    for (let round = 1; round <= rounds; round++) {
      for (const [i, side] of sides.entries()) {
        process.stderr.write(`\nround ${round}/${rounds}: ${side.label}\n`);
        const dir = path.join(out, `${i}-${round}`);
        await runDriver(side.cwd, [...side.args, '--out', dir], side.env);
        results[i]!.push(readReport(dir));
      }
    }
    printComparison(scenario, sides, results as [RunFigures[], RunFigures[]]);
    return Object.fromEntries(sides.map((side, i) => [side.label, results[i]!]));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The same lockfile shares this tree's node_modules; a different one gets its own `npm ci`. */
function prepareDependencies(tree: string): void {
  const lock = (dir: string) => fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8');
  if (lock(tree) === lock(root)) {
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
    return;
  }
  process.stderr.write('compare: the ref has another package-lock.json; installing its dependencies\n');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: tree, stdio: 'inherit' });
}

function runDriver(cwd: string, args: string[], env?: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(cwd, 'loadtest/driver/run.ts'), ...args], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    // Exit 1 means a threshold failed: the run still produced its report, which is compared.
    child.on('exit', (code) => (code === 0 || code === 1 ? resolve() : reject(new Error(`the driver exited ${code} in ${cwd}`))));
  });
}

function readReport(dir: string): RunFigures {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`no report in ${dir}`);
  const r = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
    ok: boolean;
    summary: { achieved_rate: number; failed_rate: number; completed: number; latency_ms: { p50: number; p99: number } };
    checks: { http_requests?: number };
  };
  return {
    achieved: r.summary.achieved_rate,
    p50: r.summary.latency_ms.p50,
    p99: r.summary.latency_ms.p99,
    failedRate: r.summary.failed_rate,
    ...(r.checks.http_requests !== undefined && r.summary.completed > 0
      ? { requestsPerFlow: Math.round((r.checks.http_requests / r.summary.completed) * 100) / 100 }
      : {}),
    ok: r.ok,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function printComparison(scenario: string, sides: [Side, Side], results: [RunFigures[], RunFigures[]]): void {
  const flows = results.flat().some((r) => r.requestsPerFlow !== undefined);
  const list = (runs: RunFigures[], f: (r: RunFigures) => string | number | undefined) => runs.map(f).join(', ');
  const row = (label: string, runs: RunFigures[]) =>
    `| ${label} | ${list(runs, (r) => r.achieved)} | ${list(runs, (r) => r.p50)} | ${list(runs, (r) => r.p99)} | ${list(runs, (r) => `${(r.failedRate * 100).toFixed(1)}%`)} |${
      flows ? ` ${list(runs, (r) => r.requestsPerFlow)} |` : ''
    }`;
  const ratio = (f: (r: RunFigures) => number) => (median(results[1].map(f)) / median(results[0].map(f))).toFixed(2);
  const [first, second] = sides;
  const lines = [
    `\n${scenario}: ${results[0].length} alternating rounds on this machine`,
    '',
    `| side | achieved ${flows ? 'flows' : 'req'}/s | p50 ms | p99 ms | failed |${flows ? ' requests/flow |' : ''}`,
    `|---|---|---|---|---|${flows ? '---|' : ''}`,
    row(first.label, results[0]),
    row(second.label, results[1]),
    '',
    `ratio ${second.label} / ${first.label} (medians): achieved ${ratio((r) => r.achieved)}x, p50 ${ratio((r) => r.p50)}x, p99 ${ratio((r) => r.p99)}x`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
