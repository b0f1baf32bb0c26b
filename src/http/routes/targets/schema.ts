import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, name, refId } from '../common/fields.ts';

export const targetTypes = ['File', 'NGINX', 'Apache', 'HAProxy', 'Traefik', 'Caddy', 'Envoy', 'Postfix', 'Dovecot'] as const;

/** An absolute path on the agent's host. */
const hostPath = z
  .string()
  .min(2)
  .max(4096)
  .refine((p) => p.startsWith('/') && !p.includes('\0'), 'must be an absolute path');
/** A command as argv (no shell): the program, then its arguments. */
const command = z.array(z.string().min(1).max(4096)).min(1).max(64);

/**
 * A target's config: what the agent deploys (src/agent/runner.ts). Every connector type shares
 * it today (the leaf, or the leaf and its chain apart, and the key, written atomically; a
 * validation command before the switch and a reload after); a key it does not know (a typo
 * such as `certpath`) is a 400 naming it rather than a deploy that fails on the host.
 */
export const targetConfig = z.strictObject({
  /** The certificate (with its chain unless chain_path is set). A target without it deploys nothing (its jobs fail saying so). */
  cert_path: hostPath.optional(),
  /** The chain apart from the leaf. */
  chain_path: hostPath.optional(),
  /** The private key (mode 0600); the agent generated it and keeps it on the host. */
  key_path: hostPath.optional(),
  /** Run before the new files take effect; a non-zero exit restores the previous files. */
  validate_command: command.optional(),
  /** Run after the new files are in place (e.g. ["nginx", "-s", "reload"]). */
  reload_command: command.optional(),
});

export const TargetsCreateSchema = z.strictObject({
  id: clientId,
  name,
  type: z.enum(targetTypes),
  /** The agent that deploys to this target. */
  agent_id: refId,
  /** What the agent writes and runs (targetConfig); unknown keys are refused, naming them. */
  config: targetConfig.optional(),
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
