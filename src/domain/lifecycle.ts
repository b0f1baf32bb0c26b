/**
 * The certificate and job lifecycle rules: which status allows what. src/db executes them (its
 * SQL renders these lists with sqlList, so a rule changes here and nowhere else); services and
 * http ask the predicates.
 *
 * Certificates: Pending (never issued) -> Active -> Expiring -> Expired, issued again -> Active;
 * Revoked and Archived are terminal. RenewalInProgress is derived, never stored: a certificate
 * with an open issuance or renewal job is presented so (migrations/0010_derived_renewal_status.sql).
 * Jobs: Pending or AwaitingCSR (waiting for the agent's CSR) -> Running -> Completed, Failed, or
 * back to Pending while attempts remain; Cancelled from any open status.
 */
import type { CertificateStatus } from './certificates.ts';
import type { JobRow, JobStatus } from './jobs.ts';

/** No lifecycle event leaves these: issuance does not reactivate them, revocation refuses them. */
export const terminalCertificateStatuses = ['Revoked', 'Archived'] as const satisfies readonly CertificateStatus[];

export type TerminalCertificateStatus = (typeof terminalCertificateStatuses)[number];

/** A renewal may not be requested from these (an expired certificate is issued anew). */
export const nonRenewableStatuses = ['Archived', 'Revoked', 'Expired'] as const satisfies readonly CertificateStatus[];

export type NonRenewableStatus = (typeof nonRenewableStatuses)[number];

/** Statuses whose certificates renew automatically when due (renewal sweep, agent-driven renewal). */
export const autoRenewStatuses = ['Active', 'Expiring'] as const satisfies readonly CertificateStatus[];

/** Statuses whose expiry is worth a notification. */
export const expiryNotifiedStatuses = ['Active', 'Expiring', 'Expired'] as const satisfies readonly CertificateStatus[];

/** The status a certificate takes when a new version is issued. */
export const issuedStatus = 'Active' satisfies CertificateStatus;

/** The derived status of a certificate with an open issuance or renewal job. */
export const inProgressStatus = 'RenewalInProgress' satisfies CertificateStatus;

/** Job types that issue a certificate version; at most one of them is open per certificate. */
export const issuanceJobTypes = ['Issuance', 'Renewal'] as const satisfies readonly JobRow['type'][];

/** Job statuses that are not over yet (a job in one of them can still run, or be cancelled). */
export const openJobStatuses = ['Pending', 'AwaitingCSR', 'Running'] as const satisfies readonly JobStatus[];

/** Open job statuses that are queued for or held by a worker or agent (AwaitingCSR waits for a CSR instead). */
export const inFlightJobStatuses = ['Pending', 'Running'] as const satisfies readonly JobStatus[];

const includes = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

export const isTerminal = (status: string): status is TerminalCertificateStatus => includes(terminalCertificateStatuses, status);

export const isRenewable = (status: string): boolean => !includes(nonRenewableStatuses, status);

export const isNonRenewable = (status: string): status is NonRenewableStatus => includes(nonRenewableStatuses, status);

/** A status that an open job does not change (terminal), or that an open job makes (derived). */
export const isTerminalOrDerived = (status: string): boolean => isTerminal(status) || status === inProgressStatus;

/** A certificate that was never issued gets an Issuance job, one that was gets a Renewal. */
export const issuanceJobTypeFor = (everIssued: boolean): (typeof issuanceJobTypes)[number] => (everIssued ? 'Renewal' : 'Issuance');
