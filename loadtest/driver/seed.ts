/**
 * Runs the seed SQL files of loadtest/seed against a database, in chunks with progress. The
 * files use psql variables (:from, :to, :'seed') so k6 users can run them with psql; here they
 * become bound parameters.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const seedDir = path.resolve(import.meta.dirname, '../seed');

/** psql variables -> $n parameters (numbered by first use): `:'seed'` (a literal) and `:from` (a value). */
export function bindPsqlVariables(sql: string, values: Record<string, string | number>): { text: string; params: unknown[] } {
  const used: string[] = [];
  // String literals are matched (and kept) whole, so a colon inside one is never a variable.
  const text = sql.replace(/:'([a-z_]+)'|'(?:[^']|'')*'|(?<![:\w]):([a-z_]+)\b/g, (match, quoted: string | undefined, bare: string | undefined) => {
    const name = quoted ?? bare;
    if (name === undefined) return match;
    if (!(name in values)) throw new Error(`seed SQL uses :${name}, which was not given`);
    if (!used.includes(name)) used.push(name);
    return `$${used.indexOf(name) + 1}`;
  });
  return { text, params: used.map((n) => values[n]) };
}

/** The API key of load-test agent `id` (see loadtest/seed/agents.sql). */
export function loadAgentKey(seed: string, agentId: string): string {
  return `cfk_${createHash('sha256').update(`${seed}:${agentId}`).digest('base64url')}`;
}

export const loadAgentId = (i: number) => `load-agent-${String(i).padStart(7, '0')}`;

export interface SeedProgress {
  (done: number, total: number): void;
}

/** Seeds rows 1..count of `file` in chunks, in one transaction (idempotent SQL). */
export async function runSeed(
  databaseUrl: string,
  file: string,
  count: number,
  seed: string,
  progress: SeedProgress = () => undefined,
  chunk = 50_000,
): Promise<void> {
  if (!/^[a-z_]+\.sql$/.test(file) || !fs.existsSync(path.join(seedDir, file))) throw new Error(`no seed file loadtest/seed/${file}`);
  const sql = fs.readFileSync(path.join(seedDir, file), 'utf8');
  const statements = sql
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
  // Tables a file names with `-- bulk-table: <name>` get their plain indexes dropped and rebuilt
  // around a large seed: one sorted build per index instead of a million incremental inserts
  // (1,000,000 certificates: 62.9 s -> see docs/operator/scale.md). Unique and primary-key
  // indexes stay (ON CONFLICT needs them). All in the seed's transaction: a failure leaves the
  // schema as it was.
  const bulkTables = count >= 100_000 ? [...sql.matchAll(/^-- bulk-table: ([a-z_]+)$/gm)].map((m) => m[1]!) : [];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    const rebuild: string[] = [];
    if (bulkTables.length > 0) {
      await client.query("SET LOCAL maintenance_work_mem = '256MB'");
      const { rows } = await client.query<{ name: string; def: string }>(
        `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname
           JOIN pg_index x ON x.indexrelid = c.oid
          WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) AND NOT x.indisunique AND NOT x.indisprimary`,
        [bulkTables],
      );
      for (const r of rows) {
        await client.query(`DROP INDEX ${pg.escapeIdentifier(r.name)}`);
        rebuild.push(r.def);
      }
    }
    for (let from = 1; from <= count; from += chunk) {
      const to = Math.min(count, from + chunk - 1);
      for (const statement of statements) {
        const { text, params } = bindPsqlVariables(statement, { from, to, seed });
        await client.query(text, params);
      }
      progress(to, count);
    }
    for (const def of rebuild) await client.query(def);
    await client.query('COMMIT');
    await client.query('ANALYZE');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
