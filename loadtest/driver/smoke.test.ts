/**
 * CI smoke of every scenario through the real command (`npm run loadtest -- <name> --smoke`):
 * it starts its own server on an embedded PostgreSQL, seeds, runs a short low-rate load, passes
 * its checks and writes the JSON and HTML reports. Every singleton loop runs once mid-run, so a
 * scenario whose expectations break when the renewal sweep (say) runs fails here, not only in
 * a long run. Not a performance gate: latency thresholds are reported, not enforced (this
 * machine is running the rest of the suite meanwhile); any failed expectation fails it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-loadtest-smoke-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const scenarios = fs.readdirSync(path.resolve(import.meta.dirname, '../scenarios')).map((f) => f.replace(/\.js$/, ''));

describe.each(scenarios)('npm run loadtest -- %s --smoke', (name) => {
  it('runs, passes its checks and writes both reports', async () => {
    const dir = path.join(out, name);
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        path.resolve(import.meta.dirname, 'run.ts'),
        name,
        '--smoke',
        '--rate',
        '100',
        '--duration',
        '2s',
        '--warmup',
        '1s',
        '--connections',
        '4',
        '--agents',
        '300',
        '--certificates',
        '300',
        '--fleet',
        '300',
        '--acme',
        '300',
        '--out',
        dir,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(stdout).toMatch(/PASSED/);
    const files = fs.readdirSync(dir);
    const report = JSON.parse(
      fs.readFileSync(
        path.join(
          dir,
          files.find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ) as {
      scenario: string;
      ok: boolean;
      summary: { requests: number; failed: number; dropped: number; per_second: unknown[] };
      environment: { cores: number; postgres: string };
    };
    expect(report).toMatchObject({ scenario: name, ok: true, summary: { requests: 200, failed: 0, dropped: 0 } });
    // The leader's loops ran mid-run (a long run's state), and the expectations still held.
    expect((report as unknown as { checks: Record<string, number> }).checks.loops_run_mid_run).toBeGreaterThan(0);
    expect(report.summary.per_second.length).toBeGreaterThanOrEqual(2);
    expect(report.environment.postgres).toMatch(/^\d+/);
    const html = fs.readFileSync(
      path.join(
        dir,
        files.find((f) => f.endsWith('.html'))!,
      ),
      'utf8',
    );
    for (const id of ['latency-histogram', 'throughput', 'latency-over-time']) expect(html).toContain(`id="${id}"`);
  }, 120_000);
});
