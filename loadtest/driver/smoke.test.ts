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
import { loadScenario } from './scenario.ts';

const run = promisify(execFile);
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-loadtest-smoke-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const all = fs.readdirSync(path.resolve(import.meta.dirname, '../scenarios')).map((f) => f.replace(/\.js$/, ''));
const kinds = new Map(await Promise.all(all.map(async (name) => [name, (await loadScenario(name)).kind ?? 'requests'] as const)));
const scenarios = all.filter((name) => kinds.get(name) === 'requests');
const rotations = all.filter((name) => kinds.get(name) === 'rotation');
const handshakes = all.filter((name) => kinds.get(name) === 'handshake');

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

// A renewal wave to real nginx daemons through agent processes: 6 targets on 2 hosts, poll 2 s.
describe.each(rotations)('npm run loadtest -- %s --smoke', (name) => {
  it('serves every new leaf with no failed or retried deployment, and writes its report', async () => {
    const dir = path.join(out, name);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, 'run.ts'), name, '--smoke', '--out', dir], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(stdout).toMatch(/PASSED/);
    const report = JSON.parse(
      fs.readFileSync(
        path.join(
          dir,
          fs.readdirSync(dir).find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ) as {
      ok: boolean;
      summary: Record<string, number>;
    };
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ targets: 6, served: 6, deployments_completed: 6, deployments_failed: 0, deployments_retried: 0 });
    expect(report.summary.max_ms).toBeGreaterThan(0);
  }, 150_000);
});

// New TLS connections to a real daemon serving a certfleet-issued chain: 50/s for 2 s.
describe.each(handshakes)('npm run loadtest -- %s --smoke', (name) => {
  it('connects at the rate with no failed handshake, and writes its report', async () => {
    const dir = path.join(out, name);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, 'run.ts'), name, '--smoke', '--out', dir], {
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(stdout).toMatch(/PASSED/);
    const report = JSON.parse(
      fs.readFileSync(
        path.join(
          dir,
          fs.readdirSync(dir).find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ) as {
      ok: boolean;
      summary: { connections: number; failed: number; latency_ms: { p50: number } };
    };
    expect(report).toMatchObject({ ok: true, summary: { connections: 100, failed: 0 } });
    expect(report.summary.latency_ms.p50).toBeGreaterThan(0);
  }, 120_000);
});

// The same ACME flows against Debian's Pebble and certfleet, both over HTTPS: Pebble's orders
// are pending (authorization, challenge, polls), certfleet's trusting profile's ready at once.
describe('npm run loadtest -- acme_flow --target pebble --smoke', () => {
  it('runs both sides without a failed flow and prints both with their ratio', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        path.resolve(import.meta.dirname, 'run.ts'),
        'acme_flow',
        '--target',
        'pebble',
        '--rounds',
        '1',
        '--smoke',
        '--rate',
        '20',
        '--duration',
        '2s',
        '--warmup',
        '0s',
        '--connections',
        '4',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const row = (side: string) => new RegExp(`^\\| ${side} \\| ([\\d.]+) \\| [\\d.]+ \\| [\\d.]+ \\| ([\\d.]+)% \\| ([\\d.]+) \\|$`, 'm').exec(stdout);
    const pebble = row('pebble');
    const certfleet = row('certfleet');
    expect(pebble, stdout).not.toBeNull();
    expect(certfleet, stdout).not.toBeNull();
    expect([pebble![2], certfleet![2]]).toEqual(['0.0', '0.0']);
    expect(Number(certfleet![3])).toBe(4);
    // Pebble's flows answered challenges and polled (its authorization reuse skips some).
    expect(Number(pebble![3])).toBeGreaterThan(4);
    expect(stdout).toMatch(/^ratio certfleet \/ pebble \(medians\): achieved [\d.]+x/m);
    expect(stdout.match(/^PASSED$/gm)).toHaveLength(2);
  }, 150_000);
});

// The ACME entry points against Pebble and certfleet through the request engine over HTTPS (a
// TLS session per connection; HEAD answered without a body whatever Content-Length says).
describe.each(['acme_directory', 'acme_new_nonce'])('npm run loadtest -- %s --target pebble --smoke', (name) => {
  it('runs both sides over HTTPS without a failed request and prints both with their ratio', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        path.resolve(import.meta.dirname, 'run.ts'),
        name,
        '--target',
        'pebble',
        '--rounds',
        '1',
        '--smoke',
        '--rate',
        '500',
        '--duration',
        '2s',
        '--warmup',
        '0s',
        '--connections',
        '4',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const row = (side: string) => new RegExp(`^\\| ${side} \\| ([\\d.]+) \\| [\\d.]+ \\| [\\d.]+ \\| ([\\d.]+)% \\|$`, 'm').exec(stdout);
    for (const side of ['pebble', 'certfleet']) {
      const figures = row(side);
      expect(figures, stdout).not.toBeNull();
      expect(figures![2]).toBe('0.0');
      expect(Number(figures![1])).toBeGreaterThan(400);
    }
    expect(stdout).toMatch(/^ratio certfleet \/ pebble \(medians\): achieved [\d.]+x/m);
    expect(stdout.match(/^PASSED$/gm)).toHaveLength(2);
  }, 150_000);
});

// Challenge mode: certfleet validates every authorization for real (http-01 against the driver's
// own responder, names resolved by pebble-challtestsrv), and --statements prints where the
// database time went.
describe('npm run loadtest -- acme_flow --acme-mode challenge --statements --smoke', () => {
  it('validates every order over http-01 without a failed flow, and prints the statement profile', async () => {
    const dir = path.join(out, 'acme_flow_challenge');
    const { stdout } = await run(
      process.execPath,
      [
        ...['--import', 'tsx', path.resolve(import.meta.dirname, 'run.ts'), 'acme_flow', '--acme-mode', 'challenge', '--statements', '--smoke'],
        ...['--rate', '20', '--duration', '2s', '--warmup', '0s', '--connections', '4', '--out', dir],
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(stdout).toMatch(/^PASSED$/m);
    const report = JSON.parse(
      fs.readFileSync(
        path.join(
          dir,
          fs.readdirSync(dir).find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ) as {
      options: Record<string, unknown>;
      summary: { completed: number; failed: number };
      checks: Record<string, number>;
    };
    expect(report.options.acme_mode).toBe('challenge');
    expect(report.summary).toMatchObject({ completed: 40, failed: 0 });
    // One http-01 answer fetched per order (certfleet validates from one vantage point), none unknown.
    expect(report.checks.http01_answers_served).toBe(40);
    expect(report.checks.http01_unknown_tokens).toBe(0);
    // Each order went through its authorization: more than the 4 requests of a trusted order.
    expect(report.checks.http_requests! / report.summary.completed).toBeGreaterThan(6);
    expect(stdout).toMatch(/^database time by statement/m);
    expect(stdout).toMatch(/UPDATE acme_challenges/);
    expect(stdout).toMatch(/^ +1\.00 +\S+ +\S+ +\S+ +acme_authorizations$/m);
  }, 150_000);
});

describe('npm run loadtest -- --help', () => {
  const driver = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.resolve(import.meta.dirname, 'run.ts'), ...args], { encoding: 'utf8' });

  it('prints the usage and exits 0', async () => {
    const { stdout } = await driver('--help');
    expect(stdout).toMatch(/^npm run loadtest -- <scenario> \[--rate R\]/);
    expect(stdout).toContain('--compare <git-ref>');
  });

  it('names an unknown option and shows the usage, exit 2, no stack trace', async () => {
    const failed = await driver('api_list', '--bogus').then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toMatch(/^loadtest: Unknown option '--bogus'\nnpm run loadtest -- <scenario>/);
    expect(failed?.stderr).not.toMatch(/\n\s+at /);
  });
});
