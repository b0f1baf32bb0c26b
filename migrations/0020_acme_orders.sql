-- The ACME server's order flow (RFC 8555 7.4-7.5): orders, their authorizations and challenges,
-- and what a certificate profile needs to be offered over ACME.

-- A profile is offered over ACME (listed in the directory's meta.profiles, selectable in
-- newOrder) once it names what its certificates need in the inventory. Unset = not offered.
ALTER TABLE certificate_profiles
  ADD COLUMN acme_issuer_id text CONSTRAINT certificate_profiles_acme_issuer_id_fkey REFERENCES issuers (id) ON DELETE RESTRICT,
  ADD COLUMN acme_owner_id text CONSTRAINT certificate_profiles_acme_owner_id_fkey REFERENCES owners (id) ON DELETE RESTRICT,
  ADD COLUMN acme_team_id text CONSTRAINT certificate_profiles_acme_team_id_fkey REFERENCES teams (id) ON DELETE RESTRICT,
  ADD COLUMN acme_renewal_policy_id text CONSTRAINT certificate_profiles_acme_renewal_policy_id_fkey REFERENCES renewal_policies (id) ON DELETE RESTRICT;
-- Proving control of a name is the safe default; trusting every authenticated account with any
-- name the profile allows is an operator's explicit choice. No profile was offered before this
-- migration, so none changes behaviour.
ALTER TABLE certificate_profiles ALTER COLUMN acme_auth_mode SET DEFAULT 'challenge';
UPDATE certificate_profiles SET acme_auth_mode = 'challenge';

-- Every replica's ACME profile list (src/acme/profiles.ts) is reloaded when a profile changes.
-- Profiles change rarely, so a NOTIFY inside the writing transaction costs nothing that matters.
CREATE FUNCTION certificate_profiles_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('certfleet_changes', 'certificate_profiles');
  RETURN NULL;
END;
$$;
CREATE TRIGGER certificate_profiles_notify AFTER INSERT OR UPDATE OR DELETE ON certificate_profiles
  FOR EACH STATEMENT EXECUTE FUNCTION certificate_profiles_notify_changed();

CREATE TABLE acme_orders (
  id             text PRIMARY KEY,
  account_id     text NOT NULL REFERENCES acme_accounts (id) ON DELETE CASCADE,
  profile_id     text NOT NULL REFERENCES certificate_profiles (id) ON DELETE CASCADE,
  status         text NOT NULL CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
  expires_at     timestamptz NOT NULL,
  -- [{type, value}] as normalised (lowercase, wildcards kept), in the client's order.
  identifiers    jsonb NOT NULL,
  not_before     timestamptz,
  not_after      timestamptz,
  -- RFC 9773: the ARI certificate id of the certificate this order renews.
  replaces       text,
  -- The account URL (kid) as the client knows it: dns-account-01 derives its record name from it.
  account_url    text NOT NULL,
  error          jsonb,
  certificate_id text REFERENCES certificates (id) ON DELETE SET NULL,
  version_id     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX acme_orders_account_idx ON acme_orders (account_id, created_at DESC, id DESC);
CREATE INDEX acme_orders_certificate_idx ON acme_orders (certificate_id) WHERE certificate_id IS NOT NULL;
-- The GC finds orders past their expiry that never got a certificate.
CREATE INDEX acme_orders_expires_idx ON acme_orders (expires_at) WHERE status IN ('pending', 'ready', 'invalid');
-- One order may replace a given certificate (RFC 9773 7: alreadyReplaced).
CREATE UNIQUE INDEX acme_orders_replaces_key ON acme_orders (replaces) WHERE replaces IS NOT NULL AND status <> 'invalid';

CREATE TABLE acme_authorizations (
  id          text PRIMARY KEY,
  order_id    text NOT NULL REFERENCES acme_orders (id) ON DELETE CASCADE,
  identifier_type text NOT NULL DEFAULT 'dns' CHECK (identifier_type IN ('dns', 'ip')),
  -- The value without a leading "*." (RFC 8555 7.1.4); wildcard says it had one.
  identifier  text NOT NULL,
  wildcard    boolean NOT NULL DEFAULT false,
  status      text NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
  expires_at  timestamptz NOT NULL,
  position    integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX acme_authorizations_order_idx ON acme_authorizations (order_id, position);

CREATE TABLE acme_challenges (
  id               text PRIMARY KEY,
  authorization_id text NOT NULL REFERENCES acme_authorizations (id) ON DELETE CASCADE,
  type             text NOT NULL CHECK (type IN ('http-01', 'dns-01', 'tls-alpn-01', 'dns-account-01')),
  -- 128 random bits, base64url (RFC 8555 8.1).
  token            text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
  validated_at     timestamptz,
  error            jsonb,
  position         integer NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX acme_challenges_authorization_idx ON acme_challenges (authorization_id, position);
-- Validations whose replica went away mid-way are found and run again (the ACME GC).
CREATE INDEX acme_challenges_processing_idx ON acme_challenges (updated_at) WHERE status = 'processing';
