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

export type AcmeOrderStatus = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid';
export type AcmeAuthorizationStatus = 'pending' | 'valid' | 'invalid' | 'deactivated' | 'expired' | 'revoked';
export type AcmeChallengeStatus = 'pending' | 'processing' | 'valid' | 'invalid';
export type AcmeChallengeType = 'http-01' | 'dns-01' | 'tls-alpn-01' | 'dns-account-01';
/** How a profile's orders get their authorizations: proven by a challenge, or trusted at once. */
export type AcmeAuthMode = 'challenge' | 'trust_authenticated';

/** An RFC 8555 identifier: a DNS name, or an IP address (RFC 8738) in its canonical text form. */
export interface AcmeIdentifier {
  type: 'dns' | 'ip';
  value: string;
}

/** A problem document as stored on an order or a challenge (RFC 8555 6.7). */
export interface StoredProblem {
  type: string;
  detail: string;
  status: number;
}

/** A certificate profile offered over ACME: everything an ACME certificate needs in the inventory. */
export interface AcmeProfile {
  id: string;
  name: string;
  description: string;
  authMode: AcmeAuthMode;
  issuerId: string;
  /** The issuer's type: a local CA signs at finalize, an external one queues the signing. */
  issuerType: string;
  ownerId: string;
  teamId: string;
  renewalPolicyId: string;
  /** SAN patterns of the profile (empty = any name): checked at newOrder. */
  sanPatterns: string[];
  maxTtlSeconds: number;
  allowedKeyAlgorithms: Array<{ algorithm: string; min_size?: number }>;
  allowedEkus: string[];
  /** The issuer's certificate lifetime (validity_days, default 90), before the profile's cap. */
  issuerValidityDays: number;
}

export interface AcmeOrderRow {
  id: string;
  account_id: string;
  profile_id: string;
  status: AcmeOrderStatus;
  expires_at: Date;
  identifiers: AcmeIdentifier[];
  not_before: Date | null;
  not_after: Date | null;
  replaces: string | null;
  error: StoredProblem | null;
  certificate_id: string | null;
  version_id: string | null;
  created_at: Date;
}

export interface AcmeChallengeRow {
  id: string;
  authorization_id: string;
  type: AcmeChallengeType;
  token: string;
  status: AcmeChallengeStatus;
  validated_at: Date | null;
  error: StoredProblem | null;
}

export interface AcmeAuthorizationRow {
  id: string;
  order_id: string;
  identifier_type: AcmeIdentifier['type'];
  identifier: string;
  wildcard: boolean;
  status: AcmeAuthorizationStatus;
  expires_at: Date;
  challenges: AcmeChallengeRow[];
}

/** An issued certificate version as ACME revoke and renewal-info find it by serial. */
export interface AcmeIssuedVersion {
  version_id: string;
  certificate_id: string;
  issuer_id: string;
  serial_number: string;
  /** Hex SHA-256 of the leaf's DER. */
  fingerprint: string;
  not_before: Date;
  not_after: Date;
  pem_chain: string;
  certificate_status: string;
  revoked: boolean;
  /** An operator asked for its renewal (an open renewal job: REST renew or bulk-renew). */
  renewal_requested: boolean;
  renewal_window_days: number;
  /** The ACME account whose order produced it; null for certificates issued otherwise. */
  account_id: string | null;
}
