/**
 * The open issuance/renewal job of a certificate, as SQL. At most one exists per certificate
 * (the partial unique index jobs_one_open_issuance, whose predicate this repeats so the planner
 * can use it), and while it exists the certificate is presented as RenewalInProgress: the status
 * is derived, never stored (migrations/0010_derived_renewal_status.sql).
 */
import { inProgressStatus, isTerminal, issuanceJobTypes, openJobStatuses, terminalCertificateStatuses } from '../domain/lifecycle.ts';
import { sqlList } from './sql.ts';

/** The predicate on a jobs row `alias` that makes it an open issuance/renewal job. */
export const openIssuanceJob = (alias: string) => `${alias}.type IN ${sqlList(issuanceJobTypes)} AND ${alias}.status IN ${sqlList(openJobStatuses)}`;

/** `EXISTS (...)`: certificate `c` has an open issuance/renewal job. */
export const hasOpenIssuanceJob = `EXISTS (SELECT 1 FROM jobs oj WHERE oj.certificate_id = c.id AND ${openIssuanceJob('oj')})`;

/** Stored statuses that an open job does not override (a revoked or archived certificate stays so). */
const terminalStatuses = sqlList(terminalCertificateStatuses);

/** The status the API presents for certificate `c`. */
export const presentedStatus = `CASE WHEN c.status NOT IN ${terminalStatuses} AND ${hasOpenIssuanceJob} THEN '${inProgressStatus}' ELSE c.status END`;

/**
 * Certificate `c` is presented as RenewalInProgress. Listing them is driven from the open jobs
 * (an uncorrelated array, so an index scan of certificates_pkey examines exactly the certificates
 * in progress): as a semi-join the planner chose to scan the whole certificates table whenever
 * it was small enough to look cheap (test/integration/certificate-indexes.test.ts).
 */
export const inProgressCondition = `c.id = ANY (ARRAY(SELECT oj.certificate_id FROM jobs oj WHERE ${openIssuanceJob('oj')}))
  AND c.status NOT IN ${terminalStatuses}`;

/** For Conditions.add: certificate `c` is presented with the stored status `?` (any but RenewalInProgress). */
export const storedStatusCondition = (status: string) => (isTerminal(status) ? 'c.status = ?' : `c.status = ? AND NOT ${hasOpenIssuanceJob}`);
