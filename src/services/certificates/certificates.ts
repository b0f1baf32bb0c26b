/**
 * Managed certificates: create, read, partial update (including renewal_policy_id and the
 * target mapping), archive, and the keyset-paginated list. Every change is audited.
 */
import type { CertificateRepository } from '../../db/certificates.ts';
import type { CertificateFilter, CertificateRow, CertificateWrite, SortColumn } from '../../domain/certificates.ts';
import { Errors } from '../../errors.ts';
import type { AuditWriter, RecordedEvent } from '../audit/writer.ts';
import type { Principal } from '../auth/permissions.ts';
import { Keyset, type CursorCodec } from '../cursor.ts';
import { newId } from '../../domain/ids.ts';
import { violationToAppError } from '../inventory/violations.ts';

export interface CertificateInput extends CertificateWrite {
  id?: string | undefined;
  target_ids?: string[] | undefined;
  /** How the certificate came to be; set by protocols (ACME), never by REST input. Default API. */
  source?: 'ACME' | undefined;
}

export interface ListRequest {
  filter: CertificateFilter;
  sort: SortColumn;
  descending: boolean;
  perPage: number;
  /** Offset paging (1-based); ignored when `cursor` is given. */
  page: number;
  cursor?: string | undefined;
  /** Skip the count query (`total` is then null). */
  withTotal: boolean;
}

export interface ListResult {
  rows: CertificateRow[];
  total: number | null;
  nextCursor: string | undefined;
}

/** One create waiting for its group (CertificateService.create). */
interface PendingCreate {
  principal: Principal | undefined;
  input: CertificateInput;
  id: string;
  values: CertificateWrite;
  targets: string[];
}

export class CertificateService {
  /**
   * Creates arriving together are inserted by one statement and committed with their audit
   * events in one transaction (issue 13: api_create); a group with a bad create falls back to
   * one transaction each, so each caller gets its own answer.
   */
  readonly #createBatched: (create: PendingCreate) => Promise<CertificateRow>;

  constructor(
    private readonly repo: CertificateRepository,
    private readonly audit: AuditWriter,
    private readonly cursors: CursorCodec,
  ) {
    this.#createBatched = audit.atomicallyBatched(
      (creates) => this.#insertMany(creates),
      (create) => this.#insertOne(create),
    );
  }

  async get(id: string): Promise<CertificateRow> {
    const row = await this.repo.get(id);
    if (!row) throw Errors.notFound(`certificate ${id} not found`);
    return row;
  }

  create(principal: Principal | undefined, input: CertificateInput): Promise<CertificateRow> {
    const { id = newId('cert'), target_ids: targets = [], ...values } = input;
    return this.#createBatched({ principal, input, id, values, targets });
  }

  async #insertOne(create: PendingCreate): Promise<CertificateRow> {
    let row: CertificateRow;
    try {
      row = await this.repo.insert(create.id, create.values, create.targets);
    } catch (err) {
      throw violationToAppError(err, { ...create.input, id: create.id, target_ids: create.targets.join(', ') });
    }
    await this.audit.record(create.principal, createdEvent(row));
    return row;
  }

  async #insertMany(creates: PendingCreate[]): Promise<CertificateRow[]> {
    const rows = await this.repo.insertMany(creates);
    await this.audit.recordAll(rows.map((row, i) => ({ principal: creates[i]!.principal, event: createdEvent(row) })));
    return rows;
  }

  async update(principal: Principal | undefined, id: string, input: CertificateInput): Promise<CertificateRow> {
    const { target_ids: targets, ...values } = input;
    return this.audit.atomically(async () => {
      let result: Awaited<ReturnType<CertificateRepository['update']>>;
      try {
        result = await this.repo.update(id, values, targets);
      } catch (err) {
        throw violationToAppError(err, { ...input, target_ids: targets?.join(', ') });
      }
      if (result === undefined) throw Errors.notFound(`certificate ${id} not found`);
      if (result === 'archived') throw Errors.conflict(`certificate ${id} is archived and can no longer change`);
      await this.audit.record(principal, {
        action: 'certificate_updated',
        resourceType: 'certificate',
        resourceId: id,
        category: 'cert_lifecycle',
        details: { fields: Object.keys(input).sort() },
      });
      return result;
    });
  }

  /** DELETE archives: the record stays for history and audit. Archiving twice is a no-op. */
  archive(principal: Principal | undefined, id: string): Promise<void> {
    return this.audit.atomically(async () => {
      const result = await this.repo.archive(id);
      if (!result) throw Errors.notFound(`certificate ${id} not found`);
      if (!result.changed) return;
      await this.audit.record(principal, {
        action: 'certificate_archived',
        resourceType: 'certificate',
        resourceId: id,
        category: 'cert_lifecycle',
      });
    });
  }

  async list(req: ListRequest): Promise<ListResult> {
    const keyset = new Keyset(this.cursors, `${req.sort}:${req.descending ? 'desc' : 'asc'}`, req.filter);
    const position = keyset.after(req.cursor);
    const after = position ? { value: String(position.v), id: position.id } : undefined;
    // One extra row tells whether another page follows, without a second query.
    const rows = await this.repo.list({
      filter: req.filter,
      sort: req.sort,
      descending: req.descending,
      limit: req.perPage + 1,
      offset: after ? 0 : (req.page - 1) * req.perPage,
      after,
    });
    const more = rows.length > req.perPage;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    const nextCursor = more && last ? keyset.next(last.cursor_value, last.id) : undefined;
    const total = req.withTotal ? await this.repo.count(req.filter) : null;
    return { rows, total, nextCursor };
  }

  /** Reassigns owner (and team) of the given certificates, set-based; audited once. */
  async bulkReassign(principal: Principal | undefined, input: { certificate_ids: string[]; owner_id: string; team_id?: string | undefined }) {
    return this.audit.atomically(async () => {
      let result: { matched: number; reassigned: number };
      try {
        result = await this.repo.bulkReassign([...new Set(input.certificate_ids)], input.owner_id, input.team_id);
      } catch (err) {
        throw violationToAppError(err, input);
      }
      const totals = { total_matched: result.matched, total_reassigned: result.reassigned, total_skipped: result.matched - result.reassigned, total_failed: 0 };
      await this.audit.record(principal, {
        action: 'bulk_reassign',
        resourceType: 'certificate',
        resourceId: 'bulk',
        category: 'cert_lifecycle',
        details: { owner_id: input.owner_id, ...(input.team_id ? { team_id: input.team_id } : {}), certificates: input.certificate_ids.length, ...totals },
      });
      return totals;
    });
  }

  async versions(id: string, perPage: number, page: number) {
    await this.get(id);
    return this.repo.versions(id, perPage, (page - 1) * perPage);
  }

  async deployments(id: string) {
    await this.get(id);
    return this.repo.deployments(id);
  }
}

/** The certificate_created event (also written for certificates born issued, IssuanceService.issueNew). */
export function createdEvent(row: Pick<CertificateRow, 'id' | 'name' | 'common_name' | 'target_ids'>): RecordedEvent {
  return {
    action: 'certificate_created',
    resourceType: 'certificate',
    resourceId: row.id,
    category: 'cert_lifecycle',
    details: { name: row.name, common_name: row.common_name, target_ids: row.target_ids },
  };
}
