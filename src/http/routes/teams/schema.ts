import { z } from 'zod';
import type { InventoryResourceDefinition } from '../common/inventory-resource.ts';
import { clientId, description, name } from '../common/fields.ts';

export const TeamsCreateSchema = z.strictObject({ id: clientId, name, description: description.optional() });
export const TeamsUpdateSchema = TeamsCreateSchema.omit({ id: true }).partial();
export type TeamsCreateReq = z.infer<typeof TeamsCreateSchema>;

export const teams: InventoryResourceDefinition = {
  path: '/api/v1/teams',
  kind: 'teams',
  createSchema: TeamsCreateSchema,
  updateSchema: TeamsUpdateSchema,
  fields: ['id', 'name', 'description', 'created_at', 'updated_at'],
};
