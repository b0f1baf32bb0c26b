/**
 * Create, read, update and delete for the simple inventory resources (teams, owners, issuers,
 * renewal policies, certificate profiles, deployment targets), each mutation audited.
 */
import type { TableRepository } from '../../db/table-repository.ts';
import type { Row } from '../../domain/inventory.ts';
import { Errors } from '../../errors.ts';
import type { AuditWriter } from '../audit/writer.ts';
import type { Principal } from '../auth/permissions.ts';
import { newId } from '../../domain/ids.ts';
import { violationToAppError } from './violations.ts';

export interface ResourceServiceOptions {
  repo: TableRepository;
  audit: AuditWriter;
  /** Singular resource name for audit and messages: "team". */
  subject: string;
  idPrefix: string;
  /** Extra validation that needs the whole input (e.g. an issuer's type-specific config). */
  check?: (input: Record<string, unknown>, existing?: Row) => void;
}

export class ResourceService {
  readonly subject: string;
  readonly #o: ResourceServiceOptions;

  constructor(options: ResourceServiceOptions) {
    this.#o = options;
    this.subject = options.subject;
  }

  list(page: number, perPage: number): Promise<{ rows: Row[]; total: number }> {
    return this.#o.repo.list({ limit: perPage, offset: (page - 1) * perPage });
  }

  async get(id: string): Promise<Row> {
    const row = await this.#o.repo.get(id);
    if (!row) throw Errors.notFound(`${this.subject} ${id} not found`);
    return row;
  }

  async create(principal: Principal | undefined, input: Record<string, unknown>): Promise<Row> {
    this.#o.check?.(input);
    const values = { ...input, id: (input.id as string | undefined) ?? newId(this.#o.idPrefix) };
    return this.#o.audit.atomically(async () => {
      let row: Row;
      try {
        row = await this.#o.repo.insert(values);
      } catch (err) {
        throw violationToAppError(err, values);
      }
      await this.#audit(principal, 'created', row.id, { fields: Object.keys(input).sort() });
      return row;
    });
  }

  async update(principal: Principal | undefined, id: string, patch: Record<string, unknown>): Promise<Row> {
    if (this.#o.check) this.#o.check(patch, await this.get(id));
    return this.#o.audit.atomically(async () => {
      let row: Row | undefined;
      try {
        row = await this.#o.repo.update(id, patch);
      } catch (err) {
        throw violationToAppError(err, patch);
      }
      if (!row) throw Errors.notFound(`${this.subject} ${id} not found`);
      await this.#audit(principal, 'updated', id, { fields: Object.keys(patch).sort() });
      return row;
    });
  }

  delete(principal: Principal | undefined, id: string): Promise<void> {
    return this.#o.audit.atomically(async () => {
      let deleted: boolean;
      try {
        deleted = await this.#o.repo.delete(id);
      } catch (err) {
        throw violationToAppError(err);
      }
      if (!deleted) throw Errors.notFound(`${this.subject} ${id} not found`);
      await this.#audit(principal, 'deleted', id, {});
    });
  }

  #audit(principal: Principal | undefined, verb: string, id: string, details: Record<string, unknown>) {
    return this.#o.audit.record(principal, {
      action: `${this.subject}_${verb}`,
      resourceType: this.subject,
      resourceId: id,
      category: 'config',
      details,
    });
  }
}
