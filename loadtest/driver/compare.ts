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
  ok: boolean;
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
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'certfleet-compare-out-'));
  git(['worktree', 'add', '--detach', tree, commit]);
  try {
    prepareDependencies(tree);
    // One workload for both: the current scenario definitions and seeds replace the ref's, so
    // only the server's code differs (and a scenario newer than the ref still runs there).
    for (const dir of ['loadtest/scenarios', 'loadtest/seed']) {
      fs.rmSync(path.join(tree, dir), { recursive: true, force: true });
      fs.cpSync(path.join(root, dir), path.join(tree, dir), { recursive: true });
    }
    const results: Record<'ref' | 'current', RunFigures[]> = { ref: [], current: [] };
    for (let round = 1; round <= o.rounds; round++) {
      for (const side of ['ref', 'current'] as const) {
        const cwd = side === 'ref' ? tree : root;
        process.stderr.write(`\ncompare round ${round}/${o.rounds}: ${side === 'ref' ? label : 'current tree'}\n`);
        const dir = path.join(out, `${side}-${round}`);
        await runDriver(cwd, [o.scenario, ...o.args, '--out', dir]);
        results[side].push(readReport(dir));
      }
    }
    printComparison(o.scenario, label, results);
    return 0;
  } finally {
    git(['worktree', 'remove', '--force', tree]);
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

function runDriver(cwd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(cwd, 'loadtest/driver/run.ts'), ...args], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
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
    summary: { achieved_rate: number; failed_rate: number; latency_ms: { p50: number; p99: number } };
  };
  return { achieved: r.summary.achieved_rate, p50: r.summary.latency_ms.p50, p99: r.summary.latency_ms.p99, failedRate: r.summary.failed_rate, ok: r.ok };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function printComparison(scenario: string, label: string, results: Record<'ref' | 'current', RunFigures[]>): void {
  const row = (name: string, runs: RunFigures[]) =>
    `| ${name} | ${runs.map((r) => r.achieved).join(', ')} | ${runs.map((r) => r.p50).join(', ')} | ${runs.map((r) => r.p99).join(', ')} | ${runs.map((r) => `${(r.failedRate * 100).toFixed(1)}%`).join(', ')} |`;
  const ratio = (f: (r: RunFigures) => number) => (median(results.current.map(f)) / median(results.ref.map(f))).toFixed(2);
  const lines = [
    `\n${scenario}: ${results.ref.length} alternating rounds on this machine`,
    '',
    '| tree | achieved req/s | p50 ms | p99 ms | failed |',
    '|---|---|---|---|---|',
    row(label, results.ref),
    row('current', results.current),
    '',
    `ratio current / ${label} (medians): achieved ${ratio((r) => r.achieved)}x, p50 ${ratio((r) => r.p50)}x, p99 ${ratio((r) => r.p99)}x`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
