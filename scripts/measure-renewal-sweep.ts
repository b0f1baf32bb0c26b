// Measures one renewal sweep over N seeded certificates (expiries spread over a year, a W-day
// window, so W/365 of them due) on an embedded PostgreSQL with default settings (fsync on):
// time, due, enqueued and peak RSS growth. docs/operator/scale.md quotes it.
//   node --expose-gc --import tsx scripts/measure-renewal-sweep.ts        (N=1000000 W=37)
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { createUnitOfWork } from '../src/db/unit-of-work.ts';
import { createAuditRepository } from '../src/db/audit.ts';
import { createJobRepository } from '../src/db/jobs.ts';
import { migrate } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';
import { createRenewalSweepRepository } from '../src/db/renewal-sweep.ts';
import { createLogger } from '../src/observability/logger.ts';
import { AuditWriter } from '../src/services/audit/writer.ts';
import { sweepRenewals } from '../src/scheduler/renewal-sweep.ts';
import { runSeed } from '../loadtest/driver/seed.ts';

const n = Number(process.env.N ?? 1_000_000);
const windowDays = Number(process.env.W ?? 37);
const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sweep-'));
await fs.chmod(rootDir, 0o755);
const log = createLogger({ level: 'warn', destination: process.stderr });
const server = new EmbeddedPostgres({ rootDir, log });
const url = await server.start();
const pool = createPool({ connectionString: url, max: 4, log });
await migrate(pool, log);
let t = performance.now();
await runSeed(url, 'certificates.sql', n, 'x');
console.log(`seeded ${n} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
await pool.query('UPDATE renewal_policies SET renewal_window_days = $1 WHERE id = $2', [windowDays, 'load-policy']);
await pool.query('VACUUM ANALYZE');
const audit = new AuditWriter({ repo: createAuditRepository(pool), uow: createUnitOfWork(pool, log), log });
global.gc?.();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
t = performance.now();
const result = await sweepRenewals({ sweep: createRenewalSweepRepository(pool), jobs: createJobRepository(pool), audit });
const ms = performance.now() - t;
clearInterval(sampler);
console.log(JSON.stringify({ n, windowDays, ...result, seconds: +(ms / 1000).toFixed(2), rss_growth_mb: +((peak - rss0) / 1048576).toFixed(1) }));
await audit.flush();
await pool.end();
await server.stop();
await fs.rm(rootDir, { recursive: true, force: true });
