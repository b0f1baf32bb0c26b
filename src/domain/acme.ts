/** The ACME server's records as services and presenters exchange them (src/acme, src/db/acme-server.ts). */
export type AcmeAccountStatus = 'valid' | 'deactivated' | 'revoked';

export interface AcmeAccountRow {
  id: string;
  key_thumbprint: string;
  jwk: Record<string, unknown>;
  contact: string[];
  status: AcmeAccountStatus;
  tos_agreed: boolean;
  created_at: Date;
}
