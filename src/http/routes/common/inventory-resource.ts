import type { ZodType } from 'zod';
import type { InventoryKind } from '../../../domain/inventory.ts';

/** Everything that distinguishes one simple inventory resource's routes from another's. */
export interface InventoryResourceDefinition {
  path: string;
  kind: InventoryKind;
  createSchema: ZodType<Record<string, unknown>>;
  updateSchema: ZodType<Record<string, unknown>>;
  /** Response fields, in order: the presenter's allowlist. */
  fields: readonly string[];
}
