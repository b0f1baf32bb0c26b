import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, name } from '../common/fields.ts';

export const RenewalPoliciesCreateSchema = z.strictObject({
  id: clientId,
  name,
  /** Days before expiry at which renewal starts; 1..365, default 30. */
  renewal_window_days: z.number().int().min(1).max(365).optional(),
  auto_renew: z.boolean().optional(),
  /** 0..10, default 3. */
  max_retries: z.number().int().min(0).max(10).optional(),
  /** 60..86400, default 3600. */
  retry_interval_seconds: z.number().int().min(60).max(86400).optional(),
  /** Days before expiry to alert at; each 0..365, distinct, at most 10; default [30,14,7,0]. */
  alert_thresholds_days: z
    .array(z.number().int().min(0).max(365))
    .max(10)
    .refine((a) => new Set(a).size === a.length, 'must not repeat a value')
    .optional(),
});
export const RenewalPoliciesUpdateSchema = RenewalPoliciesCreateSchema.omit({ id: true }).partial();
export type RenewalPoliciesCreateReq = z.infer<typeof RenewalPoliciesCreateSchema>;

const columns = [
  'id',
  'name',
  'renewal_window_days',
  'auto_renew',
  'max_retries',
  'retry_interval_seconds',
  'alert_thresholds_days',
  'created_at',
  'updated_at',
] as const;

export const renewalPolicies: InventoryResourceDefinition = {
  path: '/api/v1/renewal-policies',
  kind: 'renewal_policies',
  createSchema: RenewalPoliciesCreateSchema,
  updateSchema: RenewalPoliciesUpdateSchema,
  fields: columns,
};
