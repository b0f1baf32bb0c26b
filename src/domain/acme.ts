/** The ACME server's records as services and presenters exchange them (src/acme, src/db/acme-server.ts). */
export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

export interface AcmeAccountRow {
  id: string;
  key_thumbprint: string;
  jwk: Record<string, unknown>;
  contact: string[];
  status: AcmeAccountStatus;
  tos_agreed: boolean;
  /** The External Account Binding key it was bound with, if any. */
  eab_key_id: string | null;
  created_at: Date;
}

/** An External Account Binding key as listed (its HMAC key is never shown again). */
export interface AcmeEabKeyRow {
  id: string;
  name: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  account_id: string | null;
  bound_at: Date | null;
}
