/**
 * Issuer connectors: what an issuer `type` means. Each type declares the schema of its
 * `config`; issuance (`issue`) joins the interface with the local CA, and external CAs
 * (ACME, Vault, step-ca ...) plug in here as further entries.
 */
import { z } from 'zod';

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

export const issuerConnectors: Readonly<Record<string, IssuerConnector>> = { local };
export const issuerTypes = Object.keys(issuerConnectors) as [string, ...string[]];
