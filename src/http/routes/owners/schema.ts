import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, name, refId } from '../common/fields.ts';

export const OwnersCreateSchema = z.strictObject({
  id: clientId,
  name,
  email: z.email('must be an email address').max(320),
  team_id: refId,
});
export const OwnersUpdateSchema = OwnersCreateSchema.omit({ id: true }).partial();
export type OwnersCreateReq = z.infer<typeof OwnersCreateSchema>;

export const owners: InventoryResourceDefinition = {
  path: '/api/v1/owners',
  kind: 'owners',
  createSchema: OwnersCreateSchema,
  updateSchema: OwnersUpdateSchema,
  fields: ['id', 'name', 'email', 'team_id', 'created_at', 'updated_at'],
};
