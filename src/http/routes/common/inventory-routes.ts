/** Wires every simple inventory resource: repository -> audited service -> six routes. */
import type { Pool } from '../../../db/pool.ts';
import { createTableRepository } from '../../../db/table-repository.ts';
import type { AuditWriter } from '../../../services/audit/writer.ts';
import { ResourceService } from '../../../services/inventory/resource-service.ts';
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

export const inventoryResources: readonly InventoryResourceDefinition[] = [
  teams,
  owners,
  issuers,
  renewalPolicies,
  profiles,
  targets,
];

export function inventoryRoutes(deps: { pool: Pool; audit: AuditWriter }): RouteDefinition[] {
  return inventoryResources.flatMap((def) =>
    crudRoutes({
      path: def.path,
      service: new ResourceService({
        repo: createTableRepository(deps.pool, def.table),
        audit: deps.audit,
        subject: def.table.subject.replace(/ /g, '_'),
        idPrefix: def.idPrefix,
        check: def.check,
      }),
      createSchema: def.createSchema,
      updateSchema: def.updateSchema,
      present: (row) => pick(row, def.fields),
      read: 'inventory.read',
      write: 'inventory.write',
      noun: def.table.subject,
      responseSchema: resourceSchema(def.createSchema as ZodObject, def.fields),
    }),
  );
}
