/** Small SQL helpers shared by repositories. */
import Cursor from 'pg-cursor';
import type { Pool, PoolClient } from './pool.ts';
import { savepoint, transactionScopes } from './transaction-scope.ts';
import { translateUnavailable } from './unavailable.ts';

/**
 * Runs `work` in one transaction on one connection: COMMIT on success, ROLLBACK on any error.
 * Inside a unit of work (unit-of-work.ts) it is a savepoint of that unit's transaction instead.
 */
export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const scope = transactionScopes.getStore();
  if (scope && !scope.ended) return savepoint(scope, work);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw translateUnavailable(err);
  } finally {
    client.release();
  }
}

/**
 * `value` as an SQL string literal, exactly as pg.escapeLiteral writes it: quotes doubled and,
 * when it holds a backslash, an E'' literal with backslashes doubled. pg's copies the string one
 * character at a time; on the audit outbox's JSON that was 39% of all the bytes the server
 * allocated under api_create. pg's stays the oracle (sql.test.ts); bench/db/sql-literal.bench.ts.
 */
export function sqlLiteral(value: string): string {
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? ` E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

/**
 * An SQL expression minting an id of newId's shape (src/domain/ids.ts) for set-based inserts:
 * `<prefix>-<12 hex ms timestamp><12 hex random>`. `prefix` is a constant, never input.
 */
export function sqlNewId(prefix: string): string {
  return `'${prefix}-' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
                || substr(replace(gen_random_uuid()::text, '-', ''), 1, 12)`;
}

/**
 * `('A', 'B')`: a constant list of lifecycle values (src/domain/lifecycle.ts) written into SQL
 * text, so statements stay literal (the planner matches partial index predicates such as
 * jobs_one_open_issuance's only against literals). Refuses anything but plain words.
 */
export function sqlList(values: readonly string[]): string {
  for (const value of values) {
    if (!/^[A-Za-z]+$/.test(value)) throw new Error(`sqlList takes constant words, not ${JSON.stringify(value)}`);
  }
  return `(${values.map((value) => `'${value}'`).join(', ')})`;
}

/** Collects `AND`-ed conditions with numbered parameters: add('c.status = ?', 'Active'). */
export class Conditions {
  readonly params: unknown[] = [];
  readonly #where: string[] = [];

  /** `sql` uses `?` for the value's placeholder (every `?` is the same parameter). */
  add(sql: string, value: unknown): this {
    this.params.push(value);
    this.#where.push(sql.replaceAll('?', `$${this.params.length}`));
    return this;
  }

  /** Adds a condition that already uses numbered placeholders. */
  raw(sql: string): this {
    this.#where.push(sql);
    return this;
  }

  /** `WHERE a AND b`, or '' when there is no condition. */
  get where(): string {
    return this.#where.length ? `WHERE ${this.#where.join(' AND ')}` : '';
  }

  /** The next parameter's placeholder after pushing `value`. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}

/**
 * Names for statement texts built at run time that repeat (a list's first page, one text per sort
 * and page size), so that each is parsed and planned once per connection instead of on every
 * call. Bounded: every named text becomes a prepared statement on each connection that runs it,
 * so past `max` distinct texts the rest stay unnamed.
 */
export class StatementNames {
  readonly #names = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    private readonly max: number,
  ) {}

  /** The text's name, or undefined once `max` other texts were named. */
  for(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < this.max) {
      name = `${this.prefix}-${this.#names.size}`;
      this.#names.set(text, name);
    }
    return name;
  }
}

/**
 * Reads a query's rows through one server-side cursor (pg-cursor), `batchSize` at a time, so
 * memory stays bounded for any result size; `onBatch` returning false stops early. Returns the
 * rows read.
 */
export async function streamRows<R>(
  pool: Pool,
  text: string,
  params: unknown[],
  batchSize: number,
  onBatch: (rows: R[]) => Promise<void | false>,
  cursorOptions?: ConstructorParameters<typeof Cursor>[2],
): Promise<number> {
  const client = await pool.connect();
  let total = 0;
  try {
    const cursor = client.query(new Cursor<R>(text, params, cursorOptions));
    try {
      for (;;) {
        const rows = await cursor.read(batchSize);
        if (rows.length === 0) break;
        total += rows.length;
        if ((await onBatch(rows)) === false) break;
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  } catch (err) {
    throw translateUnavailable(err);
  } finally {
    client.release();
  }
  return total;
}
