/**
 * Where a scenario's database time goes: `node --import tsx scripts/statement-profile.ts
 * <scenario> [driver options]` starts PostgreSQL with pg_stat_statements, a `certfleet serve`
 * on it, runs the scenario through the load driver (default: max-throughput, 32 connections,
 * 10 s), then prints the 20 statements with the most total execution time, the statements the
 * server sent most often, and the rows each table had written. This is how the API tier's 73 ms
 * count was found (docs/operator/scale.md).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres, findFreePort } from '../src/db/embedded-postgres.ts';
import { createLogger } from '../src/observability/logger.ts';

const [scenario = 'api_tier', ...driverArgs] = process.argv.slice(2);
const log = createLogger({ level: 'warn', destination: process.stderr });
const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'cf-statements-'));
await fs.chmod(rootDir, 0o711);
const postgres = new EmbeddedPostgres({ rootDir, log, settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } });
const databaseUrl = await postgres.start();
const port = await findFreePort();
const adminKey = `statements-${Date.now()}-0123456789abcdef`;
const server = spawn(process.execPath, ['bin/certfleet.js', 'serve'], {
  cwd: path.resolve(import.meta.dirname, '..'),
  env: { ...process.env, DATABASE_URL: databaseUrl, CERTFLEET_PORT: String(port), CERTFLEET_ADMIN_API_KEY: adminKey, CERTFLEET_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; i < 150; i++) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const defaults = ['--executor', 'max-throughput', '--connections', '32', '--duration', '10'];
  try {
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'loadtest/driver/run.ts',
        scenario,
        '--url',
        url,
        '--database-url',
        databaseUrl,
        '--admin-key',
        adminKey,
        ...(driverArgs.length ? driverArgs : defaults),
      ],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
  } catch {
    // a failed threshold still leaves statistics to read
  }
  const { rows } = await client.query(
    `SELECT calls, round(total_exec_time)::int AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query
       FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20`,
  );
  process.stdout.write(`\n${'total ms'.padStart(9)} ${'calls'.padStart(8)} ${'mean ms'.padStart(9)}  statement\n`);
  for (const r of rows) process.stdout.write(`${String(r.total_ms).padStart(9)} ${String(r.calls).padStart(8)} ${String(r.mean_ms).padStart(9)}  ${r.query}\n`);
  // The client's view: statements it sent (not those run by triggers and functions), most
  // frequent first. A round trip costs the server's main thread more than most statements cost
  // PostgreSQL (docs/operator/scale.md), so this is where fewer round trips would come from.
  const sent = await client.query<{ calls: string; query: string }>(
    `SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) AS query
       FROM pg_stat_statements WHERE toplevel ORDER BY calls DESC LIMIT 25`,
  );
  process.stdout.write(`\n${'calls'.padStart(8)}  statement sent by a client (top level)\n`);
  for (const r of sent.rows) process.stdout.write(`${String(r.calls).padStart(8)}  ${r.query}\n`);
  // Rows written per table: what the statements above (and their triggers) did to the data.
  // (PostgreSQL 18 groups statements by relation alias: every foreign-key check, whatever its
  // table, is counted under the first one seen, `SELECT $2 FROM ONLY ... x ... FOR KEY SHARE OF x`.)
  const tables = await client.query<{ relname: string; ins: string; upd: string; hot: string; del: string }>(
    `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_tup_del AS del FROM pg_stat_user_tables
      WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC LIMIT 20`,
  );
  process.stdout.write(`\n${'inserted'.padStart(9)} ${'updated'.padStart(8)} ${'(hot)'.padStart(8)} ${'deleted'.padStart(8)}  table\n`);
  for (const r of tables.rows) process.stdout.write(`${r.ins.padStart(9)} ${r.upd.padStart(8)} ${r.hot.padStart(8)} ${r.del.padStart(8)}  ${r.relname}\n`);
  await client.end();
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await postgres.stop();
  await fs.rm(rootDir, { recursive: true, force: true });
}
