import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, name, refId } from '../common/fields.ts';
import { targetTypes } from '../../../services/fleet/target-configs.ts';

export const TargetsCreateSchema = z.strictObject({
  id: clientId,
  name,
  type: z.enum(targetTypes),
  /** The agent that deploys to this target. */
  agent_id: refId,
  /**
   * What the agent writes, runs and checks: its fields depend on `type` (docs/connectors.md;
   * src/services/fleet/target-configs.ts checks them); unknown keys are refused, naming them.
   */
  config: z.record(z.string(), z.unknown()).describe('fields by type: docs/connectors.md').optional(),
  enabled: z.boolean().optional(),
});
export const TargetsUpdateSchema = TargetsCreateSchema.omit({ id: true }).partial();
export type TargetsCreateReq = z.infer<typeof TargetsCreateSchema>;

const columns = ['id', 'name', 'type', 'agent_id', 'config', 'enabled', 'created_at', 'updated_at'] as const;

export const targets: InventoryResourceDefinition = {
  path: '/api/v1/targets',
  kind: 'deployment_targets',
  createSchema: TargetsCreateSchema,
  updateSchema: TargetsUpdateSchema,
  fields: columns,
};
