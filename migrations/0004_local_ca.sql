-- Local CA keys, revocations and CRLs.

-- One CA per local issuer, created on first use. The private key is stored only encrypted
-- (AES-256-GCM under CERTFLEET_ENCRYPTION_KEY): nonce (12) | tag (16) | ciphertext of PKCS#8 DER.
CREATE TABLE ca_keys (
  issuer_id             text PRIMARY KEY REFERENCES issuers (id) ON DELETE CASCADE,
  certificate_der       bytea NOT NULL,
  private_key_encrypted bytea NOT NULL,
  key_algorithm         text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);

-- Revocations are keyed by (issuer, serial), the way a CRL or an OCSP lookup asks.
CREATE TABLE certificate_revocations (
  issuer_id      text NOT NULL REFERENCES issuers (id) ON DELETE RESTRICT,
  serial_number  text NOT NULL,
  certificate_id text NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  reason         text NOT NULL,
  revoked_at     timestamptz NOT NULL DEFAULT now(),
  revoked_by     text NOT NULL,
  PRIMARY KEY (issuer_id, serial_number)
);
CREATE INDEX certificate_revocations_certificate_idx ON certificate_revocations (certificate_id);

-- The current CRL per issuer; crl_number only grows.
CREATE TABLE crls (
  issuer_id   text PRIMARY KEY REFERENCES issuers (id) ON DELETE CASCADE,
  crl_number  bigint NOT NULL,
  der         bytea NOT NULL,
  this_update timestamptz NOT NULL,
  next_update timestamptz NOT NULL,
  revoked     integer NOT NULL
);

CREATE INDEX certificate_versions_serial_idx ON certificate_versions (serial_number);
