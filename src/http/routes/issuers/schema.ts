import { z } from 'zod';
import { issuerTypes } from '../../../services/issuers/connector.ts';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, jsonObject, name } from '../common/fields.ts';

export const IssuersCreateSchema = z.strictObject({
  id: clientId,
  name,
  type: z.enum(issuerTypes, { error: `must be one of ${issuerTypes.join(', ')}` }),
  /** Type-specific settings, validated by the type's connector. */
  config: jsonObject.optional(),
  enabled: z.boolean().optional(),
});
export const IssuersUpdateSchema = IssuersCreateSchema.omit({ id: true }).partial();
export type IssuersCreateReq = z.infer<typeof IssuersCreateSchema>;

export const issuers: InventoryResourceDefinition = {
  path: '/api/v1/issuers',
  kind: 'issuers',
  createSchema: IssuersCreateSchema,
  updateSchema: IssuersUpdateSchema,
  fields: ['id', 'name', 'type', 'config', 'enabled', 'created_at', 'updated_at'],
};
