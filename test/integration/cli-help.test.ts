/**
 * `certfleet <command> --help` prints the command's usage and exits 0 with no side effect: it
 * used to start the server (serve), run migrations (migrate) or print parseArgs's raw error.
 * Run in an empty directory with no DATABASE_URL: nothing may create ./.certfleet there.
 */
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { certfleetBin } from '../support/process.ts';

async function run(args: string[], script = certfleetBin) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-help-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd },
      timeout: 30_000,
    });
    return { stdout, created: fs.readdirSync(cwd) };
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

describe('certfleet <command> --help', () => {
  it.each([
    [['serve', '--help'], 'serve'],
    [['migrate', '--help'], 'migrate'],
    [['keys', '--help'], 'keys create'],
    [['keys', 'create', '--help'], 'keys create'],
    [['audit', 'verify', '-h'], 'audit verify'],
    [['seed', '--help'], 'seed'],
    [['agent', '--help'], 'agent'],
  ])('%j prints its usage and touches nothing', async (args, usage) => {
    const { stdout, created } = await run(args);
    expect(stdout).toMatch(new RegExp(`^Usage: certfleet ${usage}`));
    expect(created).toEqual([]);
  });

  it('the agent bundle answers --help the same way', async () => {
    // Its own bundle (as scripts/build-agent.mjs makes it), so no other test's rebuild races it.
    const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cf-help-bundle-')), 'certfleet-agent.cjs');
    await build({
      entryPoints: [path.resolve(import.meta.dirname, '../../src/agent/main.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'silent',
    });
    const { stdout } = await run(['--help'], bundle);
    expect(stdout).toMatch(/^Usage: certfleet agent --server URL/);
    expect(stdout).toContain('--ca-file');
  });
});
