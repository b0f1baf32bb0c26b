import { randomBytes } from 'node:crypto';
import type { Pool } from './pool.ts';

/**
 * A random secret shared by every replica of one installation, created on first use.
 * Concurrent first calls race on the primary key; everyone reads back the winner.
 */
export async function loadInstanceSecret(pool: Pool, name: string, bytes = 32): Promise<Buffer> {
  await pool.query('INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(bytes)]);
  const { rows } = await pool.query<{ value: Buffer }>('SELECT value FROM instance_secrets WHERE name = $1', [name]);
  return rows[0]!.value;
}

/**
 * A secret made once by `create` and shared by every replica (e.g. an ACME account key, stored
 * encrypted by the caller). Concurrent first calls race on the primary key; all read the winner.
 */
export async function loadOrCreateSecret(pool: Pool, name: string, create: () => Buffer): Promise<Buffer> {
  const existing = await pool.query<{ value: Buffer }>('SELECT value FROM instance_secrets WHERE name = $1', [name]);
  if (existing.rows[0]) return existing.rows[0].value;
  await pool.query('INSERT INTO instance_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, create()]);
  const { rows } = await pool.query<{ value: Buffer }>('SELECT value FROM instance_secrets WHERE name = $1', [name]);
  return rows[0]!.value;
}
