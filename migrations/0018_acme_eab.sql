-- External Account Binding keys (RFC 8555 7.3.4): created by an admin over the REST API, the
-- HMAC key shown once and stored encrypted (CERTFLEET_ENCRYPTION_KEY, as CA keys are). A key
-- binds at most one account, for good; a revoked key binds none.
CREATE TABLE acme_eab_keys (
  id                text PRIMARY KEY,
  name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  hmac_key_sealed   bytea NOT NULL,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  revoked_at        timestamptz,
  account_id        text CONSTRAINT acme_eab_keys_account_id_key UNIQUE REFERENCES acme_accounts (id),
  bound_at          timestamptz
);

ALTER TABLE acme_accounts ADD COLUMN eab_key_id text REFERENCES acme_eab_keys (id);
