/**
 * Repository for the audit log, written in two steps (migrations/0012_audit_outbox.sql):
 * - `stage` inserts events into audit_pending, inside the caller's unit of work, so they commit
 *   with the write they describe;
 * - `chainPending` moves committed events into audit_events: one transaction per batch, holding
 *   the chain head row (the lock is taken once per batch, not per event), numbering and hashing
 *   the events in pending order and inserting them with one unnest INSERT.
 */
import type { AuditCategory, AuditEvent, AuditEventInput } from '../domain/audit.ts';
import type { Pool } from './pool.ts';
import { Conditions, sqlLiteral, streamRows } from './sql.ts';
import { translateUnavailable } from './unavailable.ts';
import { runWithCommit } from './transaction-scope.ts';
import pg from 'pg';
import type { AuditFilter, AuditRawRow } from '../domain/audit.ts';

interface AuditRow {
  seq: string;
  id: string;
  actor: string;
  actor_type: AuditEvent['actorType'];
  action: string;
  resource_type: string;
  resource_id: string;
  details: Record<string, unknown>;
  timestamp: Date;
  category: AuditCategory;
  prev_hash: string;
  row_hash: string;
}

const rawColumns = `id, seq, actor, actor_type, action, resource_type, resource_id, details,
  to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), category, prev_hash, row_hash`;
/** No type parsing: every column stays the text PostgreSQL sent (no JSON.parse, no Date). */
const rawTypes = { getTypeParser: () => (value: string) => value };

const columns = 'seq, id, actor, actor_type, action, resource_type, resource_id, details, "timestamp", category, prev_hash, row_hash';

function toEvent(r: AuditRow): AuditEvent {
  return {
    seq: Number(r.seq),
    id: r.id,
    actor: r.actor,
    actorType: r.actor_type,
    action: r.action,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    details: r.details,
    timestamp: r.timestamp,
    category: r.category,
    prevHash: r.prev_hash,
    rowHash: r.row_hash,
  };
}

function conditionsFor(filter: AuditFilter): Conditions {
  const c = new Conditions();
  if (filter.category) c.add('category = ?', filter.category);
  if (filter.actor) c.add('actor = ?', filter.actor);
  if (filter.action) c.add('action = ?', filter.action);
  if (filter.resourceType) c.add('resource_type = ?', filter.resourceType);
  if (filter.resourceId) c.add('resource_id = ?', filter.resourceId);
  if (filter.since) c.add('"timestamp" >= ?', filter.since);
  if (filter.until) c.add('"timestamp" <= ?', filter.until);
  return c;
}

/** An event ready to stage: numbered and hashed only when chained. */
export interface StagedAuditEvent extends AuditEventInput {
  id: string;
  timestamp: Date;
}

/** Computes an event's row_hash from the previous hash (src/services/audit/chain.ts). */
export type AuditHasher = (prevHash: string, event: Omit<AuditEvent, 'prevHash' | 'rowHash'>) => string;

export interface AuditRepository {
  /** Inserts events into the outbox; joins the caller's unit of work when there is one. */
  stage(events: readonly StagedAuditEvent[]): Promise<void>;
  /**
   * Chains up to `limit` committed pending events (oldest first) and returns how many. With
   * `skipIfEmpty`, a cheap read first spares taking the head lock when nothing waits.
   */
  chainPending(limit: number, hash: AuditHasher, skipIfEmpty?: boolean): Promise<number>;
  /** Events committed but not chained yet. */
  pendingCount(): Promise<number>;
  /** Newest first; `beforeSeq` continues a keyset walk. */
  list(filter: AuditFilter, options: { limit: number; beforeSeq?: number | undefined }): Promise<AuditEvent[]>;
  count(filter: AuditFilter): Promise<number>;
  get(id: string): Promise<AuditEvent | undefined>;
  head(): Promise<{ lastSeq: number; lastHash: string }>;
  /**
   * Streams matching events oldest first as unparsed text rows, in batches, at constant memory:
   * the export's hot path (skips pg's per-row JSON.parse and Date parsing).
   */
  streamRaw(filter: AuditFilter, batchSize: number, onBatch: (rows: AuditRawRow[]) => Promise<void>): Promise<number>;
  /** Streams matching events oldest first in batches, holding one cursor (constant memory). */
  stream(filter: AuditFilter, batchSize: number, onBatch: (events: AuditEvent[]) => Promise<void>): Promise<number>;
}

/** `streamPool`: where exports read (Database.streamPool); verification reads on `pool`. */
export function createAuditRepository(pool: Pool, streamPool: Pool = pool): AuditRepository {
  return {
    async stage(events) {
      // In a unit of work the events travel with its COMMIT (one round trip fewer per audited
      // write); a savepoint's events must be sent now, to roll back with it.
      if (runWithCommit(stageLiteralSql(events))) return;
      await pool.query(
        `INSERT INTO audit_pending (id, actor, actor_type, action, resource_type, resource_id, details, "timestamp", category)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[], $9::text[])`,
        [
          events.map((e) => e.id),
          events.map((e) => e.actor),
          events.map((e) => e.actorType),
          events.map((e) => e.action),
          events.map((e) => e.resourceType),
          events.map((e) => e.resourceId),
          events.map((e) => JSON.stringify(e.details)),
          events.map((e) => e.timestamp),
          events.map((e) => e.category),
        ],
      );
    },

    async chainPending(limit, hash, skipIfEmpty = false) {
      if (skipIfEmpty) {
        const { rows } = await pool.query('SELECT 1 FROM audit_pending LIMIT 1');
        if (rows.length === 0) return 0;
      }
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`chain batch limit must be a positive integer, got ${limit}`);
      // Two round trips a pass (a pass runs after most commits, so its round trips are paid by
      // every write): the head lock and the events taken in one, the chained events, the new head
      // and the COMMIT in the other, as literals (simple query protocol: no parameters).
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const replies = (await client.query(
          `BEGIN;
           SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
           DELETE FROM audit_pending WHERE pending_id IN (SELECT pending_id FROM audit_pending ORDER BY pending_id LIMIT ${limit})
           RETURNING pending_id, id, actor, actor_type, action, resource_type, resource_id, details, "timestamp", category`,
        )) as unknown as [unknown, pg.QueryResult<{ last_seq: string; last_hash: string }>, pg.QueryResult<PendingRow>];
        const [, head, taken] = replies;
        if (taken.rows.length === 0) {
          await client.query('COMMIT');
          return 0;
        }
        // Under the head lock no other chainer runs; rows committed after this statement's
        // snapshot are chained by the next pass. The event is hashed as jsonb gives it back,
        // which is exactly what `audit verify` reads later.
        const events = chainEvents(head.rows[0]!, taken.rows, hash);
        const last = events[events.length - 1]!;
        await client.query(
          `${chainedInsertSql(events)};
           UPDATE audit_chain_head SET last_seq = ${last.seq}, last_hash = ${sqlLiteral(last.rowHash)} WHERE id = 1;
           COMMIT`,
        );
        return events.length;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
        throw translateUnavailable(err);
      } finally {
        client.release(broken);
      }
    },

    async pendingCount() {
      const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_pending');
      return rows[0]!.n;
    },

    async list(filter, { limit, beforeSeq }) {
      const c = conditionsFor(filter);
      if (beforeSeq !== undefined) c.add('seq < ?', beforeSeq);
      const { rows } = await pool.query<AuditRow>(`SELECT ${columns} FROM audit_events ${c.where} ORDER BY seq DESC LIMIT ${c.param(limit)}`, c.params);
      return rows.map(toEvent);
    },

    async count(filter) {
      const c = conditionsFor(filter);
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events ${c.where}`, c.params);
      return rows[0]!.n;
    },

    async get(id) {
      const { rows } = await pool.query<AuditRow>(`SELECT ${columns} FROM audit_events WHERE id = $1`, [id]);
      return rows[0] ? toEvent(rows[0]) : undefined;
    },

    async head() {
      const { rows } = await pool.query<{ last_seq: string; last_hash: string }>('SELECT last_seq, last_hash FROM audit_chain_head WHERE id = 1');
      return { lastSeq: Number(rows[0]!.last_seq), lastHash: rows[0]!.last_hash };
    },

    stream(filter, batchSize, onBatch) {
      return readWithCursor<AuditRow>(pool, columns, filter, batchSize, (rows) => onBatch(rows.map(toEvent)));
    },

    streamRaw(filter, batchSize, onBatch) {
      return readWithCursor<AuditRawRow>(streamPool, rawColumns, filter, batchSize, onBatch, { rowMode: 'array', types: rawTypes });
    },
  };
}

type PendingRow = Omit<AuditRow, 'seq' | 'prev_hash' | 'row_hash'> & { pending_id: string };

/** Numbers and hashes `taken` (outbox rows) after `head`, in outbox order. */
function chainEvents(head: { last_seq: string; last_hash: string }, taken: PendingRow[], hash: AuditHasher): AuditEvent[] {
  const rows = [...taken].sort((a, b) => Number(a.pending_id) - Number(b.pending_id));
  let seq = Number(head.last_seq);
  let prevHash = head.last_hash;
  return rows.map((r) => {
    seq += 1;
    const base = {
      seq,
      id: r.id,
      actor: r.actor,
      actorType: r.actor_type,
      action: r.action,
      resourceType: r.resource_type,
      resourceId: r.resource_id,
      details: r.details,
      timestamp: r.timestamp,
      category: r.category,
    };
    const rowHash = hash(prevHash, base);
    const event = { ...base, prevHash, rowHash };
    prevHash = rowHash;
    return event;
  });
}

/** The INSERT of chained events as one self-contained statement (values as escaped literals). */
function chainedInsertSql(events: readonly AuditEvent[]): string {
  const rows = events.map((e) => ({
    seq: e.seq,
    id: e.id,
    actor: e.actor,
    actor_type: e.actorType,
    action: e.action,
    resource_type: e.resourceType,
    resource_id: e.resourceId,
    details: e.details,
    timestamp: e.timestamp.toISOString(),
    category: e.category,
    prev_hash: e.prevHash,
    row_hash: e.rowHash,
  }));
  return `INSERT INTO audit_events (${columns})
    SELECT ${columns} FROM jsonb_to_recordset(${sqlLiteral(JSON.stringify(rows))}::jsonb)
      AS e(seq bigint, id text, actor text, actor_type text, action text, resource_type text, resource_id text,
           details jsonb, "timestamp" timestamptz, category text, prev_hash text, row_hash text)`;
}

/** The outbox INSERT for `events` as one self-contained statement (values as escaped literals). */
function stageLiteralSql(events: readonly StagedAuditEvent[]): string {
  const rows = events.map((e) => ({
    id: e.id,
    actor: e.actor,
    actor_type: e.actorType,
    action: e.action,
    resource_type: e.resourceType,
    resource_id: e.resourceId,
    details: e.details,
    timestamp: e.timestamp.toISOString(),
    category: e.category,
  }));
  return `INSERT INTO audit_pending (id, actor, actor_type, action, resource_type, resource_id, details, "timestamp", category)
    SELECT id, actor, actor_type, action, resource_type, resource_id, details, "timestamp", category
      FROM jsonb_to_recordset(${sqlLiteral(JSON.stringify(rows))}::jsonb)
        AS e(id text, actor text, actor_type text, action text, resource_type text, resource_id text, details jsonb, "timestamp" timestamptz, category text)`;
}

/** Reads matching rows in seq order through one server-side cursor, `batchSize` rows at a time. */
function readWithCursor<R>(
  pool: Pool,
  select: string,
  filter: AuditFilter,
  batchSize: number,
  onBatch: (rows: R[]) => Promise<void>,
  cursorOptions?: Parameters<typeof streamRows>[5],
): Promise<number> {
  const c = conditionsFor(filter);
  return streamRows<R>(pool, `SELECT ${select} FROM audit_events ${c.where} ORDER BY seq`, c.params, batchSize, onBatch, cursorOptions);
}
