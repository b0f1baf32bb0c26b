/**
 * One audited ResourceService per simple inventory kind, with the rules that need the whole
 * input (an issuer's or a deployment target's config is checked by its type's connector).
 */
import type { TableRepository } from '../../db/table-repository.ts';
import { inventoryKinds, type InventoryKind, type Row } from '../../domain/inventory.ts';
import { describeZodError, Errors } from '../../errors.ts';
import type { AuditWriter } from '../audit/writer.ts';
import { targetConfigSchemas, type TargetType } from '../fleet/target-configs.ts';
import { issuerConnectors } from '../issuers/connector.ts';
import { ResourceService } from './resource-service.ts';

export type InventoryServices = Readonly<Record<InventoryKind, ResourceService>>;

/** Rules beyond the request schema, by kind. */
const checks: Partial<Record<InventoryKind, (input: Record<string, unknown>, existing?: Row) => void>> = {
  issuers(input, existing) {
    if (input.config === undefined && input.type === undefined) return;
    const type = String(input.type ?? existing?.type);
    const parsed = issuerConnectors[type]!.configSchema.safeParse(input.config ?? existing?.config ?? {});
    if (!parsed.success) throw Errors.validation(describeZodError(parsed.error, 'config'));
  },
  // A target may be created without a config (its jobs fail saying so until one is set); one
  // that is set, or a type that changes under it, must suit the type.
  deployment_targets(input, existing) {
    const config = input.config ?? existing?.config;
    if ((input.config === undefined && input.type === undefined) || config === undefined || config === null) return;
    const type = String(input.type ?? existing?.type) as TargetType;
    const parsed = targetConfigSchemas[type].safeParse(config);
    if (!parsed.success) throw Errors.validation(describeZodError(parsed.error, 'config'));
  },
};

export function createInventoryServices(repos: Readonly<Record<InventoryKind, TableRepository>>, audit: AuditWriter): InventoryServices {
  return Object.fromEntries(
    (Object.keys(inventoryKinds) as InventoryKind[]).map((kind) => [
      kind,
      new ResourceService({
        repo: repos[kind],
        audit,
        subject: inventoryKinds[kind].subject.replace(/ /g, '_'),
        idPrefix: inventoryKinds[kind].idPrefix,
        check: checks[kind],
      }),
    ]),
  ) as unknown as InventoryServices;
}
