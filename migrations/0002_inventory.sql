-- Inventory: teams, owners, issuers, renewal policies, certificate profiles, agents, deployment
-- targets, certificates and their target mappings and versions. Integrity lives here: the API
-- maps unique, foreign-key and check violations (by constraint name) to 409 and 400 answers.
-- Enum values are TitleCase and match the code exactly (certctl mixed cases; we do not).

CREATE TABLE teams (
  id          text PRIMARY KEY,
  name        text NOT NULL CONSTRAINT teams_name_key UNIQUE CHECK (char_length(name) BETWEEN 1 AND 255),
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE owners (
  id         text PRIMARY KEY,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  email      text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 320),
  -- RESTRICT, not certctl's CASCADE: deleting a team must never silently delete its owners.
  team_id    text NOT NULL CONSTRAINT owners_team_id_fkey REFERENCES teams (id) ON DELETE RESTRICT,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX owners_team_id_idx ON owners (team_id);

CREATE TABLE issuers (
  id         text PRIMARY KEY,
  name       text NOT NULL CONSTRAINT issuers_name_key UNIQUE CHECK (char_length(name) BETWEEN 1 AND 255),
  type       text NOT NULL CHECK (type IN ('local')),
  config     jsonb NOT NULL DEFAULT '{}',
  enabled    boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE renewal_policies (
  id                     text PRIMARY KEY,
  name                   text NOT NULL CONSTRAINT renewal_policies_name_key UNIQUE CHECK (char_length(name) BETWEEN 1 AND 255),
  renewal_window_days    integer NOT NULL DEFAULT 30 CHECK (renewal_window_days BETWEEN 1 AND 365),
  auto_renew             boolean NOT NULL DEFAULT true,
  max_retries            integer NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 0 AND 10),
  retry_interval_seconds integer NOT NULL DEFAULT 3600 CHECK (retry_interval_seconds BETWEEN 60 AND 86400),
  alert_thresholds_days  integer[] NOT NULL DEFAULT '{30,14,7,0}',
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE certificate_profiles (
  id                     text PRIMARY KEY,
  name                   text NOT NULL CONSTRAINT certificate_profiles_name_key UNIQUE CHECK (char_length(name) BETWEEN 1 AND 255),
  description            text NOT NULL DEFAULT '',
  allowed_key_algorithms jsonb NOT NULL DEFAULT '[{"algorithm":"ECDSA","min_size":256},{"algorithm":"RSA","min_size":2048}]',
  max_ttl_seconds        integer NOT NULL DEFAULT 0 CHECK (max_ttl_seconds >= 0),
  allowed_ekus           text[] NOT NULL DEFAULT '{serverAuth}',
  san_patterns           text[] NOT NULL DEFAULT '{}',
  acme_auth_mode         text NOT NULL DEFAULT 'trust_authenticated' CHECK (acme_auth_mode IN ('trust_authenticated', 'challenge')),
  enabled                boolean NOT NULL DEFAULT true,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Agents: registration and fleet columns arrive with the fleet issue. Liveness (the column
-- written on every heartbeat) will live in a narrow table of its own so updates stay HOT.
CREATE TABLE agents (
  id             text PRIMARY KEY,
  name           text NOT NULL CONSTRAINT agents_name_key UNIQUE CHECK (char_length(name) BETWEEN 1 AND 255),
  hostname       text NOT NULL DEFAULT '',
  status         text NOT NULL DEFAULT 'Offline' CHECK (status IN ('Online', 'Offline', 'Degraded')),
  os             text NOT NULL DEFAULT '',
  architecture   text NOT NULL DEFAULT '',
  ip_address     text NOT NULL DEFAULT '',
  version        text NOT NULL DEFAULT '',
  registered_at  timestamptz NOT NULL DEFAULT now(),
  retired_at     timestamptz,
  retired_reason text
);

CREATE TABLE deployment_targets (
  id         text PRIMARY KEY,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  type       text NOT NULL CHECK (type IN ('File', 'NGINX', 'Apache', 'HAProxy', 'Traefik', 'Caddy', 'Envoy', 'Postfix', 'Dovecot')),
  agent_id   text NOT NULL CONSTRAINT deployment_targets_agent_id_fkey REFERENCES agents (id) ON DELETE RESTRICT,
  config     jsonb NOT NULL DEFAULT '{}',
  enabled    boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT deployment_targets_agent_name_key UNIQUE (agent_id, name)
);

CREATE TABLE certificates (
  id                     text PRIMARY KEY,
  name                   text NOT NULL CONSTRAINT certificates_name_key UNIQUE CHECK (char_length(name) BETWEEN 1 AND 255),
  common_name            text NOT NULL CHECK (char_length(common_name) BETWEEN 1 AND 253),
  sans                   text[] NOT NULL DEFAULT '{}',
  environment            text NOT NULL DEFAULT '',
  owner_id               text NOT NULL CONSTRAINT certificates_owner_id_fkey REFERENCES owners (id) ON DELETE RESTRICT,
  team_id                text NOT NULL CONSTRAINT certificates_team_id_fkey REFERENCES teams (id) ON DELETE RESTRICT,
  issuer_id              text NOT NULL CONSTRAINT certificates_issuer_id_fkey REFERENCES issuers (id) ON DELETE RESTRICT,
  renewal_policy_id      text NOT NULL CONSTRAINT certificates_renewal_policy_id_fkey REFERENCES renewal_policies (id) ON DELETE RESTRICT,
  certificate_profile_id text CONSTRAINT certificates_certificate_profile_id_fkey REFERENCES certificate_profiles (id) ON DELETE RESTRICT,
  status                 text NOT NULL DEFAULT 'Pending'
                         CHECK (status IN ('Pending', 'Active', 'Expiring', 'Expired', 'RenewalInProgress', 'Failed', 'Revoked', 'Archived')),
  -- 'infinity' until a certificate is issued (presented as null): NOT NULL keeps keyset
  -- pagination on expires_at a plain row comparison that an index can serve.
  expires_at             timestamptz NOT NULL DEFAULT 'infinity',
  tags                   jsonb NOT NULL DEFAULT '{}',
  last_renewal_at        timestamptz,
  last_deployment_at     timestamptz,
  revoked_at             timestamptz,
  revocation_reason      text,
  source                 text NOT NULL DEFAULT 'API' CHECK (source IN ('API', 'Agent', 'ACME', 'EST', 'SCEP', 'Discovery')),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
-- Every sort key with its id tie-breaker, and every filter with the default sort, so each list
-- query (filter + sort + keyset) is an index scan rather than a scan-and-sort of the table.
CREATE INDEX certificates_created_idx      ON certificates (created_at, id);
CREATE INDEX certificates_updated_idx      ON certificates (updated_at, id);
CREATE INDEX certificates_expires_idx      ON certificates (expires_at, id);
CREATE INDEX certificates_common_name_idx  ON certificates (common_name, id);
CREATE INDEX certificates_name_idx         ON certificates (name, id);
CREATE INDEX certificates_status_idx       ON certificates (status, created_at, id);
CREATE INDEX certificates_status_exp_idx   ON certificates (status, expires_at, id);
CREATE INDEX certificates_environment_idx  ON certificates (environment, created_at, id);
CREATE INDEX certificates_owner_idx        ON certificates (owner_id, created_at, id);
CREATE INDEX certificates_team_idx         ON certificates (team_id, created_at, id);
CREATE INDEX certificates_issuer_idx       ON certificates (issuer_id, created_at, id);
CREATE INDEX certificates_profile_idx      ON certificates (certificate_profile_id, created_at, id);
CREATE INDEX certificates_renewal_policy_idx ON certificates (renewal_policy_id);

CREATE TABLE certificate_target_mappings (
  certificate_id text NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  target_id      text NOT NULL CONSTRAINT certificate_target_mappings_target_id_fkey REFERENCES deployment_targets (id) ON DELETE RESTRICT,
  PRIMARY KEY (certificate_id, target_id)
);
CREATE INDEX certificate_target_mappings_target_idx ON certificate_target_mappings (target_id, certificate_id);

CREATE TABLE certificate_versions (
  id                 text PRIMARY KEY,
  certificate_id     text NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  serial_number      text NOT NULL,
  not_before         timestamptz NOT NULL,
  not_after          timestamptz NOT NULL,
  fingerprint_sha256 text NOT NULL CONSTRAINT certificate_versions_fingerprint_key UNIQUE,
  pem_chain          text NOT NULL,
  csr_pem            text,
  key_algorithm      text NOT NULL DEFAULT '',
  key_size           integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificate_versions_certificate_idx ON certificate_versions (certificate_id, created_at DESC, id DESC);

-- Per-installation secrets shared by every replica (e.g. the key that signs list cursors).
CREATE TABLE instance_secrets (
  name       text PRIMARY KEY,
  value      bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
