/**
 * `npm run bench [-- filter] [--record]`: runs every bench/**\/*.bench.ts (or those whose path
 * contains the filter) with benchmark.js, prints ops/s and the relative margin of error, and
 * writes bench/results.json with the machine, Node and OpenSSL versions and the commit.
 * `--record` also writes bench/results/<date>-<host>.md, the table to commit.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Benchmark from 'benchmark';
import type { BenchFile } from './harness.ts';

const root = import.meta.dirname;
const record = process.argv.includes('--record');
const filter = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? '';

function findBenchFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return findBenchFiles(full);
    return e.name.endsWith('.bench.ts') ? [full] : [];
  });
}

interface CaseResult {
  file: string;
  name: string;
  hz: number;
  rme: number;
  samples: number;
}

function runSuite(file: BenchFile, relative: string): Promise<CaseResult[]> {
  return new Promise((resolve) => {
    const suite = new Benchmark.Suite(file.title);
    for (const c of file.cases()) {
      if (c.defer) suite.add(c.name, { defer: true, fn: (d: { resolve: () => void }) => c.fn(() => d.resolve()) });
      else suite.add(c.name, () => c.fn(() => undefined));
    }
    const results: CaseResult[] = [];
    suite.on('cycle', (event: Benchmark.Event) => {
      const b = event.target as unknown as Benchmark;
      const result = { file: relative, name: String(b.name), hz: b.hz ?? 0, rme: b.stats?.rme ?? 0, samples: b.stats?.sample.length ?? 0 };
      results.push(result);
      console.log(
        `  ${result.name.padEnd(52)} ${Math.round(result.hz).toLocaleString('en-US').padStart(14)} ops/s  ±${result.rme.toFixed(2)}%  (${result.samples} runs)`,
      );
    });
    suite.on('complete', () => resolve(results));
    suite.run({ async: true });
  });
}

const files = findBenchFiles(root)
  .map((f) => path.relative(root, f))
  .filter((f) => f.includes(filter))
  .sort();
const all: CaseResult[] = [];
for (const relative of files) {
  const mod = (await import(path.join(root, relative))) as { default: BenchFile };
  console.log(`\n${relative}: ${mod.default.title}`);
  await mod.default.setup?.();
  all.push(...(await runSuite(mod.default, relative)));
  await mod.default.teardown?.();
}

let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const environment = {
  date: new Date().toISOString(),
  commit,
  node: process.version,
  openssl: process.versions.openssl,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  platform: `${os.platform()} ${os.release()}`,
};
fs.writeFileSync(path.join(root, 'results.json'), `${JSON.stringify({ environment, results: all }, null, 2)}\n`);
console.log(`\n${JSON.stringify(environment)}\nwrote bench/results.json`);

if (record) {
  const file = path.join(root, 'results', `${environment.date.slice(0, 10)}-${os.hostname()}.md`);
  const lines = [
    `# Microbenchmarks, ${environment.date.slice(0, 10)}`,
    '',
    `\`npm run bench${filter ? ` -- ${filter}` : ''}\` at commit ${commit}: Node ${environment.node}, OpenSSL ${environment.openssl}, ${environment.cpu} (${environment.cores} cores), ${environment.platform}.`,
    'One run; the cases of one file ran side by side, so their ratios compare.',
    '',
    '| File | Case | ops/s | ±% | runs |',
    '|---|---|---:|---:|---:|',
    ...all.map((r) => `| ${r.file} | ${r.name.replaceAll('|', '\\|')} | ${Math.round(r.hz).toLocaleString('en-US')} | ${r.rme.toFixed(2)} | ${r.samples} |`),
    '',
  ];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n'));
  console.log(`wrote ${path.relative(path.dirname(root), file)}`);
}
