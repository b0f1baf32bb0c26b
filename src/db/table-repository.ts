/**
 * CRUD over one inventory table whose rows are flat columns keyed by a text id. Column names
 * come from the resource spec (never from requests), values always travel as parameters.
 */
import { translateConstraintError, type ConstraintMap } from './constraint-errors.ts';
import type { Pool } from './pool.ts';
import type { Row } from '../domain/inventory.ts';

export interface TableSpec {
  table: string;
  /** Singular noun for messages: "team". */
  subject: string;
  /** Every column a row is read with. */
  columns: readonly string[];
  /** jsonb columns: values are JSON-encoded on the way in. */
  jsonColumns?: readonly string[];
  constraints: ConstraintMap;
}

export interface TableRepository {
  list(options: { limit: number; offset: number }): Promise<{ rows: Row[]; total: number }>;
  get(id: string): Promise<Row | undefined>;
  insert(values: Record<string, unknown>): Promise<Row>;
  /** Updates the given columns (and updated_at); undefined when the id does not exist. */
  update(id: string, values: Record<string, unknown>): Promise<Row | undefined>;
  delete(id: string): Promise<boolean>;
}

export function createTableRepository(pool: Pool, spec: TableSpec): TableRepository {
  const select = spec.columns.join(', ');
  const json = new Set(spec.jsonColumns ?? []);
  const encode = (column: string, value: unknown) => (json.has(column) ? JSON.stringify(value) : value);
  const fail = (err: unknown): never => translateConstraintError(err, spec.constraints, spec.subject);
  const known = new Set(spec.columns);
  const checked = (values: Record<string, unknown>) => {
    const entries = Object.entries(values).filter(([, v]) => v !== undefined);
    for (const [column] of entries) if (!known.has(column)) throw new Error(`${spec.table} has no column ${column}`);
    return entries;
  };

  return {
    async list({ limit, offset }) {
      const [page, count] = await Promise.all([
        pool.query<Row>(`SELECT ${select} FROM ${spec.table} ORDER BY id LIMIT $1 OFFSET $2`, [limit, offset]),
        pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${spec.table}`),
      ]);
      return { rows: page.rows, total: count.rows[0]!.n };
    },

    async get(id) {
      const { rows } = await pool.query<Row>(`SELECT ${select} FROM ${spec.table} WHERE id = $1`, [id]);
      return rows[0];
    },

    async insert(values) {
      const entries = checked(values);
      const names = entries.map(([c]) => c).join(', ');
      const placeholders = entries.map((_, i) => `$${i + 1}`).join(', ');
      try {
        const { rows } = await pool.query<Row>(
          `INSERT INTO ${spec.table} (${names}) VALUES (${placeholders}) RETURNING ${select}`,
          entries.map(([c, v]) => encode(c, v)),
        );
        return rows[0]!;
      } catch (err) {
        return fail(err);
      }
    },

    async update(id, values) {
      const entries = checked(values);
      const sets = entries.map(([c], i) => `${c} = $${i + 2}`);
      if (known.has('updated_at')) sets.push('updated_at = now()');
      if (sets.length === 0) return this.get(id);
      try {
        const { rows } = await pool.query<Row>(`UPDATE ${spec.table} SET ${sets.join(', ')} WHERE id = $1 RETURNING ${select}`, [
          id,
          ...entries.map(([c, v]) => encode(c, v)),
        ]);
        return rows[0];
      } catch (err) {
        return fail(err);
      }
    },

    async delete(id) {
      try {
        const { rowCount } = await pool.query(`DELETE FROM ${spec.table} WHERE id = $1`, [id]);
        return (rowCount ?? 0) > 0;
      } catch (err) {
        return fail(err);
      }
    },
  };
}
