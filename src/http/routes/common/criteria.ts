/** The certificate criteria of bulk operations (renew, revoke): at least one is required. */
import { z } from 'zod';
import { refId } from './fields.ts';

export const criteriaFields = {
  profile_id: refId.optional(),
  owner_id: refId.optional(),
  agent_id: refId.optional(),
  issuer_id: refId.optional(),
  team_id: refId.optional(),
  certificate_ids: z.array(refId).min(1).max(100_000).optional(),
};

const names = Object.keys(criteriaFields) as Array<keyof typeof criteriaFields>;

/** For `.refine(hasCriterion, criterionRequired)` on a schema built on criteriaFields. */
export const hasCriterion = (body: Partial<Record<keyof typeof criteriaFields, unknown>>) => names.some((k) => body[k] !== undefined);
export const criterionRequired = { message: `give at least one criterion: ${names.join(', ')}`, path: ['criteria'] };
