/**
 * Starts one embedded PostgreSQL for the test run (durability settings off: tests need speed,
 * not crash safety) and migrates a template database that test files clone.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { EmbeddedPostgres } from '../src/db/embedded-postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { databaseNamed } from './support/database.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the `postgres` maintenance database on the test server. */
    pgAdminUrl: string;
    /** Name of the migrated template database. */
    pgTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'certfleet-test-pg-'));
  await fs.chmod(rootDir, 0o711); // as root, the postgres OS user must traverse it
  const log = createLogger({ level: 'warn', destination: process.stderr });
  const server = new EmbeddedPostgres({
    rootDir,
    log,
    database: 'postgres',
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '500' },
  });
  const adminUrl = await server.start();
  const template = 'certfleet_template';
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: databaseNamed(adminUrl, template), max: 2 });
  await migrate(pool, log);
  await pool.end();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);
  return async () => {
    await server.stop();
    await fs.rm(rootDir, { recursive: true, force: true });
  };
}
