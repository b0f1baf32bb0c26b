import type { ZodType } from 'zod';
import type { TableSpec } from '../../../db/table-repository.ts';
import type { Row } from '../../../db/table-repository.ts';

/** Everything that distinguishes one simple inventory resource from another. */
export interface InventoryResourceDefinition {
  path: string;
  idPrefix: string;
  table: TableSpec;
  createSchema: ZodType;
  updateSchema: ZodType;
  /** Response fields, in order: the presenter's allowlist. */
  fields: readonly string[];
  /** Extra whole-input validation (e.g. type-specific config). */
  check?: (input: Record<string, unknown>, existing?: Row) => void;
}
