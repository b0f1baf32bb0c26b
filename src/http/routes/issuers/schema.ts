import { z } from 'zod';
import { Errors } from '../../../errors.ts';
import { issuerConnectors, issuerTypes } from '../../../services/issuers/connector.ts';
import { describeZodError } from '../../problems.ts';
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
  idPrefix: 'iss',
  createSchema: IssuersCreateSchema,
  updateSchema: IssuersUpdateSchema,
  fields: ['id', 'name', 'type', 'config', 'enabled', 'created_at', 'updated_at'],
  check(input, existing) {
    if (input.config === undefined && input.type === undefined) return;
    const type = String(input.type ?? existing?.type);
    const parsed = issuerConnectors[type]!.configSchema.safeParse(input.config ?? existing?.config ?? {});
    if (!parsed.success) throw Errors.validation(describeZodError(parsed.error, 'config'));
  },
  table: {
    table: 'issuers',
    subject: 'issuer',
    columns: ['id', 'name', 'type', 'config', 'enabled', 'created_at', 'updated_at'],
    jsonColumns: ['config'],
    constraints: {
      unique: { issuers_name_key: 'name' },
      referencedBy: { certificates_issuer_id_fkey: 'certificates' },
    },
  },
};
