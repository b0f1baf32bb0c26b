/** The six routes of every simple inventory resource, over its audited service. */
import { inventoryKinds } from '../../../domain/inventory.ts';
import type { InventoryServices } from '../../../services/inventory/inventory-services.ts';
import { pick } from '../../presenters/row.ts';
import type { RouteDefinition } from '../../router.ts';
import { issuers } from '../issuers/schema.ts';
import { owners } from '../owners/schema.ts';
import { profiles } from '../profiles/schema.ts';
import { renewalPolicies } from '../renewal-policies/schema.ts';
import { targets } from '../targets/schema.ts';
import { teams } from '../teams/schema.ts';
import type { ZodObject } from 'zod';
import { crudRoutes } from './crud-routes.ts';
import { resourceSchema } from './responses.ts';
import type { InventoryResourceDefinition } from './inventory-resource.ts';

export const inventoryResources: readonly InventoryResourceDefinition[] = [teams, owners, issuers, renewalPolicies, profiles, targets];

export function inventoryRoutes(deps: { services: InventoryServices }): RouteDefinition[] {
  return inventoryResources.flatMap((def) =>
    crudRoutes({
      path: def.path,
      service: deps.services[def.kind],
      createSchema: def.createSchema,
      updateSchema: def.updateSchema,
      present: (row) => pick(row, def.fields),
      read: 'inventory.read',
      write: 'inventory.write',
      noun: inventoryKinds[def.kind].subject,
      responseSchema: resourceSchema(def.createSchema as ZodObject, def.fields),
    }),
  );
}
