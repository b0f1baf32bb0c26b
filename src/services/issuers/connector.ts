/**
 * Issuer connectors: what an issuer `type` means. Each type declares the schema of its
 * `config`. `local` signs in-process (src/services/pki/issuance.ts); external CAs sign
 * asynchronously through an `ExternalIssuer` (src/services/issuers/acme-issuer.ts), driven by the job
 * processor (src/scheduler/job-processor.ts). Vault, step-ca ... plug in as further entries.
 */
import { z } from 'zod';
import type { PollOptions, PollOutcome } from './async-poll.ts';

export interface ExternalIssueRequest {
  issuerId: string;
  config: Record<string, unknown>;
  csrPem: string;
  /** The names to order: the managed certificate's (the CSR requests exactly these). */
  names: string[];
  /** The CA's order from an earlier attempt of this job: resume it instead of ordering again. */
  ref: string | undefined;
  /** Records the order as soon as it exists (before any wait). */
  saveRef: (ref: string) => Promise<void>;
  /** Max wait (issuer config, then CERTFLEET_ASYNC_POLL_MAX_WAIT_SECONDS, then 10 min) and the job's signal. */
  poll: Pick<PollOptions, 'maxWaitMs' | 'signal'>;
}

/** An external CA. The outcome's value is the PEM chain, leaf first. */
export interface ExternalIssuer {
  issue(request: ExternalIssueRequest): Promise<PollOutcome<string>>;
}

export interface IssuerConnector {
  type: string;
  /** Validates an issuer's `config` for this type. */
  configSchema: z.ZodType<Record<string, unknown>>;
}

const local: IssuerConnector = {
  type: 'local',
  configSchema: z.strictObject({
    /** Subject CN of the CA certificate created on first use. */
    ca_common_name: z.string().min(1).max(64).optional(),
    /** Default validity of issued certificates in days; 1..825 (the CA/B limit for TLS). */
    validity_days: z.number().int().min(1).max(825).optional(),
    /** Key of the CA generated on first use; default ECDSA-P256. Fixed once the CA exists. */
    ca_key_algorithm: z.enum(['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096']).optional(),
  }),
};

/** Shared by external issuers: how long an order may take, and the first poll's wait. */
const pollSettings = {
  /** Longest wait for one order, seconds; default CERTFLEET_ASYNC_POLL_MAX_WAIT_SECONDS, then 600. */
  async_poll_max_wait_seconds: z.number().int().min(1).max(86_400).optional(),
  /** Wait before the second look at an order, ms (then x3 per attempt, at most 5 min); default 5000. */
  async_poll_initial_wait_ms: z.number().int().min(100).max(60_000).optional(),
};

const acme: IssuerConnector = {
  type: 'acme',
  configSchema: z.strictObject({
    /** The CA's ACME directory (RFC 8555 requires HTTPS). */
    directory_url: z.url({ protocol: /^https$/, error: 'must be an https URL' }),
    /** Account contact, optional. */
    email: z.email().optional(),
    /** The operator agrees to the CA's terms of service: required, as ACME requires. */
    terms_of_service_agreed: z.literal(true, { error: 'must be true: the CA requires agreeing to its terms of service' }),
    /** PEM CA certificates to trust for the directory's TLS (a private CA); default: Node's roots only. */
    ca_bundle_pem: z.string().includes('-----BEGIN CERTIFICATE-----', { error: 'must be PEM certificates' }).max(65_536).optional(),
    ...pollSettings,
  }),
};

export const issuerConnectors: Readonly<Record<string, IssuerConnector>> = { local, acme };

/** Issuer types that sign asynchronously through the job processor. */
export const externalIssuerTypes: ReadonlySet<string> = new Set(['acme']);
export const issuerTypes = Object.keys(issuerConnectors) as [string, ...string[]];
