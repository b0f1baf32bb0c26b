/**
 * Repository for certificates, their target mappings, versions and deployments.
 *
 * Listing is keyset-ready: rows come back with `cursor_value`, the sort column rendered as text
 * at full precision (timestamps with microseconds, which a JS Date would truncate to
 * milliseconds and so repeat or skip rows at page boundaries), and `(sort, id)` row comparisons
 * continue after it. Every sort has a `(column, id)` index.
 */
import { createHash } from 'node:crypto';
import { translateConstraintError, type ConstraintMap } from './constraint-errors.ts';
import type { Pool, PoolClient } from './pool.ts';
import { inProgressCondition, openIssuanceJob, presentedStatus, storedStatusCondition } from './open-jobs.ts';
import { Conditions, StatementNames, withTransaction } from './sql.ts';
import { inProgressStatus, isTerminalOrDerived } from '../domain/lifecycle.ts';
import {
  writableCertificateColumns,
  type CertificateFilter,
  type CertificateRow,
  type CertificateVersionRow,
  type CertificateWrite,
  type DeploymentTargetRow,
  type SortColumn,
} from '../domain/certificates.ts';

/** SQL types of the columns an insert may set (src/domain/certificates.ts), for set-based inserts. */
const writableColumnTypes = {
  name: 'text',
  common_name: 'text',
  sans: 'text[]',
  environment: 'text',
  owner_id: 'text',
  team_id: 'text',
  issuer_id: 'text',
  renewal_policy_id: 'text',
  certificate_profile_id: 'text',
  tags: 'jsonb',
  // Set by protocols (ACME), never by REST input.
  source: 'text',
} as const satisfies Record<(typeof writableCertificateColumns)[number] | 'source', string>;

const timestampSorts = new Set<SortColumn>(['created_at', 'updated_at', 'expires_at']);

export interface ListQuery {
  filter: CertificateFilter;
  sort: SortColumn;
  descending: boolean;
  limit: number;
  offset?: number | undefined;
  /** Continue after this (sort value, id). */
  after?: { value: string; id: string } | undefined;
}

const constraints: ConstraintMap = {
  unique: { certificates_name_key: 'name' },
  references: {
    certificates_owner_id_fkey: 'owner_id',
    certificates_team_id_fkey: 'team_id',
    certificates_issuer_id_fkey: 'issuer_id',
    certificates_renewal_policy_id_fkey: 'renewal_policy_id',
    certificates_certificate_profile_id_fkey: 'certificate_profile_id',
    certificate_target_mappings_target_id_fkey: 'target_ids',
  },
};

const targetIds = `coalesce((SELECT array_agg(m.target_id ORDER BY m.target_id) FROM certificate_target_mappings m
  WHERE m.certificate_id = c.id), '{}') AS target_ids`;
const selectColumns = `c.id, c.name, c.common_name, c.sans, c.environment, c.owner_id, c.team_id, c.issuer_id,
  c.renewal_policy_id, c.certificate_profile_id, ${presentedStatus} AS status, c.expires_at, c.tags, c.last_renewal_at,
  c.last_deployment_at, c.revoked_at, c.revocation_reason, c.source, c.created_at, c.updated_at, ${targetIds}`;

/** Named statements of lists and counts (sql.ts StatementNames): a few texts each. */
const firstPageStatements = new StatementNames('certificate-first-page', 64);
const countStatements = new StatementNames('certificate-count', 16);

function cursorExpression(sort: SortColumn): string {
  if (!timestampSorts.has(sort)) return `c.${sort}`;
  return `CASE WHEN isfinite(c.${sort}) THEN to_char(c.${sort} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
               ELSE c.${sort}::text END`;
}

/** Certificates mapped to a target of the agent `?` (shared by listing and bulk criteria). */
export const onAgentCondition = `c.id IN (SELECT m.certificate_id FROM certificate_target_mappings m
  JOIN deployment_targets t ON t.id = m.target_id WHERE t.agent_id = ?)`;

/**
 * `countable`: for a stored status, only `c.status = ?` (count() subtracts the certificates of
 * that status with an open job itself, which is far cheaper than an anti-join per row).
 */
function conditionsFor(filter: CertificateFilter, countable = false): Conditions {
  const c = new Conditions();
  if (filter.status === inProgressStatus) c.raw(inProgressCondition);
  else if (filter.status) c.add(countable ? 'c.status = ?' : storedStatusCondition(filter.status), filter.status);
  if (filter.environment !== undefined) c.add('c.environment = ?', filter.environment);
  if (filter.owner_id) c.add('c.owner_id = ?', filter.owner_id);
  if (filter.team_id) c.add('c.team_id = ?', filter.team_id);
  if (filter.issuer_id) c.add('c.issuer_id = ?', filter.issuer_id);
  if (filter.profile_id) c.add('c.certificate_profile_id = ?', filter.profile_id);
  if (filter.agent_id) c.add(onAgentCondition, filter.agent_id);
  if (filter.expires_before) c.add('c.expires_at < ?', filter.expires_before);
  // Not-yet-issued certificates (expires_at = infinity) have no expiry to be after.
  if (filter.expires_after) c.add("c.expires_at > ? AND c.expires_at <> 'infinity'", filter.expires_after);
  if (filter.created_after) c.add('c.created_at > ?', filter.created_after);
  if (filter.updated_after) c.add('c.updated_at > ?', filter.updated_after);
  return c;
}

export interface CertificateRepository {
  get(id: string): Promise<CertificateRow | undefined>;
  list(query: ListQuery): Promise<Array<CertificateRow & { cursor_value: string }>>;
  count(filter: CertificateFilter): Promise<number>;
  /** Folds certificate_count_deltas into one row per status (leader loop); returns the rows left. */
  compactCounts(): Promise<number>;
  insert(id: string, values: CertificateWrite, targets: readonly string[]): Promise<CertificateRow>;
  /**
   * `insert` for many at once: one statement per column set (a handful), the rows in input order.
   * One bad row fails them all (the caller then inserts each alone for its own error).
   */
  insertMany(items: ReadonlyArray<{ id: string; values: CertificateWrite; targets: readonly string[] }>): Promise<CertificateRow[]>;
  /** undefined: no such certificate; 'archived': it is archived and immutable. */
  update(id: string, values: CertificateWrite, targets: readonly string[] | undefined): Promise<CertificateRow | 'archived' | undefined>;
  /** Sets status Archived; `changed` is false when it already was. undefined: no such id. */
  archive(id: string): Promise<{ row: CertificateRow; changed: boolean } | undefined>;
  versions(id: string, limit: number, offset: number): Promise<{ rows: CertificateVersionRow[]; total: number }>;
  deployments(id: string): Promise<DeploymentTargetRow[]>;
  /** New owner (and team) for these certificates, except Archived ones; one statement. */
  bulkReassign(ids: readonly string[], ownerId: string, teamId: string | undefined): Promise<{ matched: number; reassigned: number }>;
}

export function createCertificateRepository(pool: Pool): CertificateRepository {
  const fail = (err: unknown): never => translateConstraintError(err, constraints, 'certificate');

  async function bulkReassign(ids: readonly string[], ownerId: string, teamId: string | undefined) {
    try {
      const { rows } = await pool.query<{ matched: number; reassigned: number }>(
        `WITH changed AS (
           UPDATE certificates c SET owner_id = $2, team_id = coalesce($3, c.team_id), updated_at = now()
            WHERE c.id = ANY($1::text[]) AND c.status <> 'Archived'
              AND (c.owner_id <> $2 OR ($3::text IS NOT NULL AND c.team_id <> $3))
           RETURNING c.id
         )
         SELECT (SELECT count(*)::int FROM certificates WHERE id = ANY($1::text[])) AS matched,
                (SELECT count(*)::int FROM changed) AS reassigned`,
        [ids, ownerId, teamId ?? null],
      );
      return rows[0]!;
    } catch (err) {
      return fail(err);
    }
  }

  async function getWith(client: Pool | PoolClient, id: string): Promise<CertificateRow | undefined> {
    // Named: planning the presented status (its open-job probe, matched against the jobs table's
    // partial indexes) cost PostgreSQL 0.45 ms per call, five times the lookup itself
    // (pg_stat_statements under api_tier). The text never varies, so it is planned once per connection.
    const { rows } = await client.query<CertificateRow>({
      name: 'certificate-by-id',
      text: `SELECT ${selectColumns} FROM certificates c WHERE c.id = $1`,
      values: [id],
    });
    return rows[0];
  }

  async function replaceTargets(client: PoolClient, id: string, targets: readonly string[]): Promise<void> {
    await client.query('DELETE FROM certificate_target_mappings WHERE certificate_id = $1', [id]);
    if (targets.length === 0) return;
    await client.query(`INSERT INTO certificate_target_mappings (certificate_id, target_id) SELECT $1, unnest($2::text[])`, [id, [...new Set(targets)].sort()]);
  }

  function encode(values: CertificateWrite): Array<[string, unknown]> {
    return Object.entries(values)
      .filter(([, v]) => v !== undefined)
      .map(([c, v]) => [c, c === 'tags' ? JSON.stringify(v) : v]);
  }

  return {
    bulkReassign,
    get: (id) => getWith(pool, id),

    async list(q) {
      const c = conditionsFor(q.filter);
      if (q.after) {
        const valueCast = timestampSorts.has(q.sort) ? '::timestamptz' : '';
        const value = c.param(q.after.value);
        const id = c.param(q.after.id);
        c.raw(`(c.${q.sort}, c.id) ${q.descending ? '<' : '>'} (${value}${valueCast}, ${id})`);
      }
      const dir = q.descending ? 'DESC' : 'ASC';
      const select = `SELECT ${selectColumns}, ${cursorExpression(q.sort)} AS cursor_value FROM certificates c ${c.where}
         ORDER BY c.${q.sort} ${dir}, c.id ${dir}`;
      // The unfiltered first page (what dashboards poll, again after every write) is a named
      // statement with its LIMIT written in: planning it cost more than running it (0.58 against
      // 0.90 ms under api_tier), and a generic plan with LIMIT $1 would be costed for a tenth of
      // the table. Other shapes vary with their filters and keep custom plans.
      if (c.where === '' && (q.offset ?? 0) === 0 && Number.isSafeInteger(q.limit)) {
        const text = `${select} LIMIT ${q.limit}`;
        const name = firstPageStatements.for(text);
        if (name) return (await pool.query<CertificateRow & { cursor_value: string }>({ name, text })).rows;
      }
      const { rows } = await pool.query<CertificateRow & { cursor_value: string }>(
        `${select} LIMIT ${c.param(q.limit)} OFFSET ${c.param(q.offset ?? 0)}`,
        c.params,
      );
      return rows;
    },

    async count(filter) {
      // A certificate presented with stored status S (S not final) is one with c.status = S and
      // no open issuance/renewal job. Counted as (all with status S) - (those of them with an
      // open job): one probe per open job, where the anti-join form probed jobs once per
      // certificate (73 ms mean at 10,000 certificates under api_tier load, 29 of 37 s of
      // database time; pg_stat_statements). At most one open job per certificate
      // (jobs_one_open_issuance), so nothing is subtracted twice.
      // "All with status S" and the unfiltered total are sums over certificate_count_deltas
      // (migrations/0013_certificate_counts.sql), not row counts; other filters count rows.
      const c = conditionsFor(filter, true);
      const onlyStatus = Object.entries(filter).every(([k, v]) => v === undefined || k === 'status');
      const subtract = filter.status !== undefined && !isTerminalOrDerived(filter.status);
      const all =
        onlyStatus && filter.status !== inProgressStatus
          ? `(SELECT coalesce(sum(n), 0) FROM certificate_count_deltas ${filter.status ? 'WHERE status = $1' : ''})`
          : `(SELECT count(*) FROM certificates c ${c.where})`;
      const text = subtract
        ? `SELECT (${all} - (SELECT count(*) FROM jobs oj JOIN certificates c ON c.id = oj.certificate_id
                      ${c.where ? `${c.where} AND` : 'WHERE'} ${openIssuanceJob('oj')}))::int AS n`
        : `SELECT ${all}::int AS n`;
      // A count without parameters (the unfiltered total) has a handful of texts: planned once.
      const name = c.params.length === 0 ? countStatements.for(text) : undefined;
      const { rows } = await pool.query<{ n: number }>(name ? { name, text } : { text, values: c.params });
      return rows[0]!.n;
    },

    async compactCounts() {
      // Folds the appended deltas into one row per status. Rows committed after this
      // statement's snapshot are left for the next run: totals stay exact throughout.
      const { rowCount } = await pool.query(
        `WITH gone AS (DELETE FROM certificate_count_deltas RETURNING status, n)
         INSERT INTO certificate_count_deltas (status, n) SELECT status, sum(n) FROM gone GROUP BY status HAVING sum(n) <> 0`,
      );
      return rowCount ?? 0;
    },

    async insertMany(items) {
      // Grouped by column set: jsonb_to_recordset fills an absent key with NULL, not the column's
      // default, so each set names its own columns. One JSON parameter carries the rows (arrays
      // such as sans and target_ids included, which unnest() of 2-D arrays cannot).
      const bySet = new Map<string, number[]>();
      items.forEach((item, index) => {
        const columns = Object.keys(item.values).filter((column) => item.values[column as keyof CertificateWrite] !== undefined);
        // Column names are written into the statement: only the known ones.
        for (const column of columns) if (!Object.hasOwn(writableColumnTypes, column)) throw new Error(`not a writable certificate column: ${column}`);
        const key = columns.join(',');
        const indexes = bySet.get(key);
        if (indexes) indexes.push(index);
        else bySet.set(key, [index]);
      });
      const out: CertificateRow[] = new Array(items.length);
      for (const [key, indexes] of bySet) {
        const columns = key ? key.split(',') : [];
        const rows = indexes.map((i) => {
          const item = items[i]!;
          return { ...item.values, id: item.id, target_ids: [...new Set(item.targets)].sort() };
        });
        const recordType = [
          'id text',
          ...columns.map((column) => `${column} ${writableColumnTypes[column as keyof typeof writableColumnTypes]}`),
          'target_ids text[]',
        ];
        try {
          const { rows: inserted } = await pool.query<CertificateRow>({
            name: `certificate-insert-many-${createHash('sha1').update(key).digest('hex').slice(0, 16)}`,
            text: `WITH r AS MATERIALIZED (
                 SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(${recordType.join(', ')})
               ), c AS (
                 INSERT INTO certificates (id${columns.map((column) => `, ${column}`).join('')})
                 SELECT id${columns.map((column) => `, ${column}`).join('')} FROM r
                 RETURNING *
               ), mapped AS (
                 INSERT INTO certificate_target_mappings (certificate_id, target_id)
                 SELECT r.id, t FROM r, unnest(r.target_ids) AS t
               )
               SELECT ${selectColumns.replace(targetIds, 'r.target_ids AS target_ids')} FROM c JOIN r ON r.id = c.id`,
            values: [JSON.stringify(rows)],
          });
          const byId = new Map(inserted.map((row) => [row.id, row]));
          for (const i of indexes) out[i] = byId.get(items[i]!.id)!;
        } catch (err) {
          return fail(err);
        }
      }
      return out;
    },

    async insert(id, values, targets) {
      // One statement (atomic on its own): the row, its target mappings and the returned
      // representation in a single round trip instead of BEGIN/INSERT/INSERT/SELECT/COMMIT.
      const entries = encode(values);
      const sortedTargets = [...new Set(targets)].sort();
      const params = [id, ...entries.map(([, v]) => v), sortedTargets];
      const targetsParam = `$${params.length}`;
      const columns = entries.map(([col]) => col).join(', ');
      try {
        const { rows } = await pool.query<CertificateRow>({
          // Named per column set (a handful): parsed and planned once per connection, not per create.
          name: `certificate-insert-${createHash('sha1').update(columns).digest('hex').slice(0, 16)}`,
          text: `WITH c AS (
             INSERT INTO certificates (id, ${columns})
             VALUES ($1, ${entries.map((_, i) => `$${i + 2}`).join(', ')})
             RETURNING *
           ), mapped AS (
             INSERT INTO certificate_target_mappings (certificate_id, target_id)
             SELECT c.id, t FROM c, unnest(${targetsParam}::text[]) AS t
           )
           SELECT ${selectColumns.replace(targetIds, `${targetsParam}::text[] AS target_ids`)} FROM c`,
          values: params,
        });
        return rows[0]!;
      } catch (err) {
        return fail(err);
      }
    },

    async update(id, values, targets) {
      try {
        return await withTransaction(pool, async (client) => {
          const existing = await client.query<{ status: string }>('SELECT status FROM certificates WHERE id = $1 FOR UPDATE', [id]);
          if (!existing.rows[0]) return undefined;
          if (existing.rows[0].status === 'Archived') return 'archived' as const;
          const entries = encode(values);
          await client.query(
            `UPDATE certificates SET ${[...entries.map(([c], i) => `${c} = $${i + 2}`), 'updated_at = now()'].join(', ')}
             WHERE id = $1`,
            [id, ...entries.map(([, v]) => v)],
          );
          if (targets) await replaceTargets(client, id, targets);
          return (await getWith(client, id))!;
        });
      } catch (err) {
        return fail(err);
      }
    },

    async archive(id) {
      const { rowCount } = await pool.query(`UPDATE certificates SET status = 'Archived', updated_at = now() WHERE id = $1 AND status <> 'Archived'`, [id]);
      const row = await getWith(pool, id);
      return row ? { row, changed: (rowCount ?? 0) > 0 } : undefined;
    },

    async versions(id, limit, offset) {
      const [page, count] = await Promise.all([
        pool.query<CertificateVersionRow>(
          `SELECT id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256, pem_chain,
                  key_algorithm, key_size, created_at
             FROM certificate_versions WHERE certificate_id = $1
            ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
          [id, limit, offset],
        ),
        pool.query<{ n: number }>('SELECT count(*)::int AS n FROM certificate_versions WHERE certificate_id = $1', [id]),
      ]);
      return { rows: page.rows, total: count.rows[0]!.n };
    },

    async deployments(id) {
      const { rows } = await pool.query<DeploymentTargetRow>(
        `SELECT t.id, t.name, t.type, t.agent_id, t.config, t.enabled, t.created_at, t.updated_at,
                (SELECT json_build_object('job_id', j.id, 'status', j.status, 'attempts', j.attempts, 'error', j.last_error,
                                          'completed_at', j.completed_at, 'updated_at', j.updated_at,
                                          'report', j.deployment_report)
                   FROM jobs j WHERE j.certificate_id = m.certificate_id AND j.target_id = t.id AND j.type = 'Deployment'
                  ORDER BY j.created_at DESC, j.id DESC LIMIT 1) AS last_deployment
           FROM certificate_target_mappings m JOIN deployment_targets t ON t.id = m.target_id
          WHERE m.certificate_id = $1 ORDER BY t.id`,
        [id],
      );
      // json_build_object gives timestamps as text.
      return rows.map((r) => ({
        ...r,
        last_deployment: r.last_deployment && {
          ...r.last_deployment,
          completed_at: r.last_deployment.completed_at === null ? null : new Date(r.last_deployment.completed_at),
          updated_at: new Date(r.last_deployment.updated_at),
        },
      }));
    },
  };
}
