/**
 * Where a scenario's database time goes: `node --import tsx scripts/statement-profile.ts
 * <scenario> [driver options]` is `npm run loadtest -- <scenario> --statements` with the defaults
 * it always had (max-throughput, 32 connections, 10 s) when no driver options are given: the
 * statements with the most database time, those the server sent most often and the rows written
 * per table, per request or flow (loadtest/driver/statements.ts). This is how the API tier's
 * 73 ms count was found (docs/operator/scale.md).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const [scenario = 'api_tier', ...driverArgs] = process.argv.slice(2);
const defaults = ['--executor', 'max-throughput', '--connections', '32', '--duration', '10'];
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', 'loadtest/driver/run.ts', scenario, '--statements', ...(driverArgs.length ? driverArgs : defaults)],
  { cwd: path.resolve(import.meta.dirname, '..'), stdio: 'inherit' },
);
// A failed threshold still printed the statistics: only a run that could not start is an error.
process.exit(run.status === 2 ? 2 : 0);
