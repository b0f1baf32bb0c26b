-- The ACME server (RFC 8555): accounts and spent nonces. Orders, authorizations and
-- challenges arrive with the order flow. Not the ACME *issuer* tables (certfleet as an ACME
-- client: acme_challenge_responses), which are unrelated.

-- One account per key across the server (as Boulder): profiles are chosen per order, so an
-- account key works under every profile's directory. Ids are random, never derived from the key.
CREATE TABLE acme_accounts (
  id              text PRIMARY KEY,
  key_thumbprint  text NOT NULL CONSTRAINT acme_accounts_key_thumbprint_key UNIQUE,
  jwk             jsonb NOT NULL,
  contact         text[] NOT NULL DEFAULT '{}',
  status          text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'deactivated', 'revoked')),
  tos_agreed      boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A nonce's identity once it is redeemed (src/acme/nonces.ts): a second INSERT of the same id,
-- from any replica, is a replay. Rows outlive their nonce by nothing: the ACME GC deletes
-- expired ones, so the table holds at most one nonce lifetime of traffic.
CREATE TABLE acme_spent_nonces (
  id          bytea PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX acme_spent_nonces_expires_at_idx ON acme_spent_nonces (expires_at);

-- ACME accounts act in the audit trail under their own actor type.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('APIKey', 'Agent', 'System', 'Anonymous', 'ACMEAccount'));
ALTER TABLE audit_pending DROP CONSTRAINT audit_pending_actor_type_check;
ALTER TABLE audit_pending ADD CONSTRAINT audit_pending_actor_type_check CHECK (actor_type IN ('APIKey', 'Agent', 'System', 'Anonymous', 'ACMEAccount'));
