/**
 * Every certificate-list filter and sort costs a bounded amount of work per page, whatever the
 * table size: EXPLAIN ANALYZE of the repository's own SQL must examine at most
 * `maxRowsExamined` certificate rows for a 51-row page of a 20,000-row table, with the value
 * searched for being rare (1% or less), as in real use: finding the few certificates that are
 * Failed, expiring this week, or on one agent. Without a fitting index the planner would have to
 * walk about 5,000 rows (51 / 1%) or scan all 20,000. Sorts must come straight from an index
 * (no Sort node), also when continuing after a cursor.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateRepository } from '../../src/db/certificates.ts';
import { sortColumns, type CertificateFilter, type SortColumn } from '../../src/domain/certificates.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { seedInventory } from '../support/fixtures.ts';

const maxRowsExamined = 1000;
let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  const inv = await seedInventory(db.url);
  pool = new pg.Pool({ connectionString: db.url, max: 1 });
  const q = (sql: string, values: unknown[] = []) => pool.query(sql, values);
  // 20,000 certificates over a year. Common values dominate; each filter below asks for a rare one.
  await q(`INSERT INTO teams (id, name) SELECT 'tm' || g, 'tm' || g FROM generate_series(1, 100) g`);
  await q(`INSERT INTO owners (id, name, email, team_id) SELECT 'ow' || g, 'ow' || g, 'o@example.com', 'tm' || (g % 100 + 1) FROM generate_series(1, 500) g`);
  await q(`INSERT INTO issuers (id, name, type) SELECT 'is' || g, 'is' || g, 'local' FROM generate_series(1, 3) g`);
  await q(`INSERT INTO certificate_profiles (id, name) SELECT 'pf' || g, 'pf' || g FROM generate_series(1, 5) g`);
  await q(`INSERT INTO agents (id, name) SELECT 'ag' || g, 'ag' || g FROM generate_series(1, 200) g`);
  await q(
    `INSERT INTO deployment_targets (id, name, type, agent_id) SELECT 'tg' || g, 'tg' || g, 'NGINX', 'ag' || (g % 200 + 1) FROM generate_series(1, 1000) g`,
  );
  await q(
    `INSERT INTO certificates (id, name, common_name, owner_id, team_id, issuer_id, renewal_policy_id, certificate_profile_id,
                               status, environment, expires_at, created_at, updated_at)
     SELECT 'c' || g, 'c' || g, 'c' || g || '.example.test', 'ow' || (g % 500 + 1), 'tm' || (g % 100 + 1),
            CASE WHEN g % 100 = 0 THEN 'is3' ELSE 'is' || (g % 2 + 1) END, $1,
            CASE WHEN g % 100 = 1 THEN 'pf5' ELSE 'pf' || (g % 4 + 1) END,
            CASE WHEN g % 100 = 2 THEN 'Failed' WHEN g % 10 = 3 THEN 'Expiring' ELSE 'Active' END,
            CASE WHEN g % 100 = 4 THEN 'qa' ELSE 'production' END,
            now() + interval '30 days' + (g % 365) * interval '1 day' - CASE WHEN g % 200 = 5 THEN interval '28 days' ELSE interval '0' END,
            now() - interval '365 days' + g * interval '26 minutes',
            now() - interval '365 days' + g * interval '26 minutes' + (g % 97) * interval '1 minute'
       FROM generate_series(1, 20000) g`,
    [inv.policyId],
  );
  await q(`INSERT INTO certificate_target_mappings (certificate_id, target_id) SELECT 'c' || g, 'tg' || (g % 1000 + 1) FROM generate_series(1, 20000, 4) g`);
  // 1% have an open renewal job: RenewalInProgress is derived from it (src/db/open-jobs.ts).
  await q(`INSERT INTO jobs (id, type, certificate_id, status) SELECT 'job-' || g, 'Renewal', 'c' || g, 'AwaitingCSR' FROM generate_series(6, 20000, 100) g`);
  await q('ANALYZE');
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Runs the repository's list query under EXPLAIN ANALYZE; returns the plan's root node. */
async function analyze(filter: CertificateFilter, sort: SortColumn, after = false): Promise<PlanNode> {
  let captured: { text: string; values: unknown[] } | undefined;
  const recording = {
    // Called with (text, values), or with a named statement's config (the unfiltered first page).
    query: (config: string | { text: string; values?: unknown[] }, params?: unknown[]) => {
      const text = typeof config === 'string' ? config : config.text;
      const values = (typeof config === 'string' ? params : config.values) ?? [];
      captured ??= { text, values };
      return pool.query(text, values);
    },
  } as unknown as pg.Pool;
  await createCertificateRepository(recording).list({
    filter,
    sort,
    descending: false,
    limit: 51,
    after: after ? { value: sort.endsWith('_at') ? new Date(Date.now() - 180 * 86_400_000).toISOString() : 'c5', id: 'c5' } : undefined,
  });
  const { rows } = await pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${captured!.text}`, captured!.values);
  return (rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan;
}

/** Certificate rows read by scans of the certificates table (returned + filtered out). */
function certificateRowsExamined(node: PlanNode): number {
  let own = 0;
  if (node['Relation Name'] === 'certificates') {
    own = (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * node['Actual Loops'];
  }
  return own + (node.Plans ?? []).reduce((sum, child) => sum + certificateRowsExamined(child), 0);
}

function hasSort(node: PlanNode): boolean {
  return node['Node Type'] === 'Sort' || (node.Plans ?? []).some((p) => p['Node Type'] !== 'Aggregate' && hasSort(p));
}

describe('certificate list cost per page', () => {
  it.each(sortColumns.map((s) => [s]))('sort=%s comes from an index, also after a cursor', async (sort) => {
    for (const after of [false, true]) {
      const plan = await analyze({}, sort, after);
      expect(hasSort(plan), JSON.stringify(plan)).toBe(false);
      expect(certificateRowsExamined(plan)).toBeLessThanOrEqual(51);
    }
  });

  const day = 86_400_000;
  // [query parameter, filter, sorts to check]. Equality filters page cheaply under any sort;
  // range filters on a timestamp page cheaply when sorted by that timestamp (docs/api.md).
  const equality = ['created_at', 'expires_at'] as const;
  const filters: Array<[string, CertificateFilter, readonly SortColumn[]]> = [
    ['status', { status: 'Failed' }, equality],
    ['status (derived)', { status: 'RenewalInProgress' }, equality],
    ['environment', { environment: 'qa' }, equality],
    ['owner_id', { owner_id: 'ow7' }, equality],
    ['team_id', { team_id: 'tm3' }, equality],
    ['issuer_id', { issuer_id: 'is3' }, equality],
    ['profile_id', { profile_id: 'pf5' }, equality],
    ['agent_id', { agent_id: 'ag17' }, equality],
    ['expires_before', { expires_before: new Date(Date.now() + 7 * day) }, ['expires_at']],
    ['expires_after', { expires_after: new Date(Date.now() + 390 * day) }, ['expires_at']],
    ['created_after', { created_after: new Date(Date.now() - day) }, ['created_at']],
    ['updated_after', { updated_after: new Date(Date.now() - day) }, ['updated_at', 'created_at']],
  ];
  it.each(filters)(`filter %s examines at most ${maxRowsExamined} rows for a page`, async (_name, filter, sorts) => {
    for (const sort of sorts) {
      const plan = await analyze(filter, sort);
      expect(certificateRowsExamined(plan), `${sort}: ${JSON.stringify(plan)}`).toBeLessThanOrEqual(maxRowsExamined);
    }
  });

  it('runs the unfiltered first page and total as named statements, planned once per connection', async () => {
    const names: Array<string | undefined> = [];
    const recording = {
      query: (config: string | { name?: string; text: string; values?: unknown[] }, params?: unknown[]) => {
        names.push(typeof config === 'string' ? undefined : config.name);
        return typeof config === 'string' ? pool.query(config, params) : pool.query(config);
      },
    } as unknown as pg.Pool;
    const repo = createCertificateRepository(recording);
    for (let i = 0; i < 3; i++) {
      const rows = await repo.list({ filter: {}, sort: 'created_at', descending: true, limit: 51 });
      expect(rows).toHaveLength(51);
      expect(await repo.count({})).toBe(20_000);
    }
    expect(names.every((name) => name !== undefined)).toBe(true);
    expect(new Set(names).size).toBe(2);
    // A filter's values vary: custom plans, no name.
    names.length = 0;
    await repo.list({ filter: { owner_id: 'ow7' }, sort: 'created_at', descending: true, limit: 51 });
    await repo.list({ filter: {}, sort: 'created_at', descending: true, limit: 51, after: { value: new Date().toISOString(), id: 'c5' } });
    expect(names).toEqual([undefined, undefined]);
  });
});
