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

/** Seeds rows 1..count of `file` in chunks (each chunk one transaction per statement, idempotent). */
export async function runSeed(
  databaseUrl: string,
  file: string,
  count: number,
  seed: string,
  progress: SeedProgress = () => undefined,
  chunk = 20_000,
): Promise<void> {
  if (!/^[a-z_]+\.sql$/.test(file) || !fs.existsSync(path.join(seedDir, file))) throw new Error(`no seed file loadtest/seed/${file}`);
  const statements = fs
    .readFileSync(path.join(seedDir, file), 'utf8')
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (let from = 1; from <= count; from += chunk) {
      const to = Math.min(count, from + chunk - 1);
      for (const statement of statements) {
        const { text, params } = bindPsqlVariables(statement, { from, to, seed });
        await client.query(text, params);
      }
      progress(to, count);
    }
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
