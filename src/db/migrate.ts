/**
 * Migration runner: applies `migrations/NNNN_name.sql` in order, each in its own transaction,
 * under a session advisory lock so replicas starting together apply each file exactly once.
 * Every applied file is recorded with its SHA-256; start-up refuses to continue if an applied
 * file has changed or the database knows a migration this build does not.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from './pool.ts';
import type { Logger } from '../observability/logger.ts';

export const defaultMigrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Arbitrary but fixed: "certfleet" in ASCII, folded into a bigint. */
const migrationLockKey = 0x63657274666c6565n;

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export async function readMigrations(dir: string = defaultMigrationsDir): Promise<MigrationFile[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Map<number, string>();
  const migrations: MigrationFile[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file name ${file} does not match NNNN_name.sql`);
    const version = Number(match[1]);
    const previous = seen.get(version);
    if (previous) throw new MigrationError(`migrations ${previous} and ${file} share version ${version}`);
    seen.set(version, file);
    const sql = await fs.readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(pool: Pool, log: Logger, dir: string = defaultMigrationsDir): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLockKey.toString()]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const file = known.get(row.version);
      if (!file) {
        throw new MigrationError(`the database has migration ${row.name}, which this certfleet does not ship: it was set up by a newer version`);
      }
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `migration ${file.name} changed after it was applied (recorded sha256 ${row.checksum}, file ${file.checksum}); ` +
            `add a new migration instead of editing an applied one`,
        );
      }
    }
    const applied = new Set(rows.map((r) => r.version));
    const result: MigrateResult = { applied: [], alreadyApplied: applied.size };
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      log.info({ migration: m.name }, 'applied migration');
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [migrationLockKey.toString()]).catch(() => undefined);
    client.release();
  }
}
