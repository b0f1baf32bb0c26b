import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, jsonObject, name, refId } from '../common/fields.ts';

export const targetTypes = ['File', 'NGINX', 'Apache', 'HAProxy', 'Traefik', 'Caddy', 'Envoy', 'Postfix', 'Dovecot'] as const;

export const TargetsCreateSchema = z.strictObject({
  id: clientId,
  name,
  type: z.enum(targetTypes),
  /** The agent that deploys to this target. */
  agent_id: refId,
  /** Paths and commands for the agent (cert_path, key_path, chain_path, reload/validate commands). */
  config: jsonObject.optional(),
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
