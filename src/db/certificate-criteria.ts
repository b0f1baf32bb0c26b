/**
 * Criteria that select certificates for bulk operations (renew, revoke), as SQL conditions on
 * `certificates c`: every criterion given must hold. Set-based: no row cap, no N+1.
 */
import { onAgentCondition } from './certificates.ts';
import { Conditions } from './sql.ts';

export interface CertificateCriteria {
  profile_id?: string | undefined;
  owner_id?: string | undefined;
  agent_id?: string | undefined;
  issuer_id?: string | undefined;
  team_id?: string | undefined;
  certificate_ids?: string[] | undefined;
}

export function criteriaConditions(criteria: CertificateCriteria): Conditions {
  const c = new Conditions();
  if (criteria.profile_id) c.add('c.certificate_profile_id = ?', criteria.profile_id);
  if (criteria.owner_id) c.add('c.owner_id = ?', criteria.owner_id);
  if (criteria.issuer_id) c.add('c.issuer_id = ?', criteria.issuer_id);
  if (criteria.team_id) c.add('c.team_id = ?', criteria.team_id);
  if (criteria.certificate_ids) c.add('c.id = ANY(?::text[])', criteria.certificate_ids);
  if (criteria.agent_id) c.add(onAgentCondition, criteria.agent_id);
  return c;
}
