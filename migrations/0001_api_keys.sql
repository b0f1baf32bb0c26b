-- API keys: only the SHA-256 of a key is stored; the key itself is shown once at creation.
CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
  role         text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer', 'agent')),
  key_hash     text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- Written in batches (at most once a minute per key), never per request.
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz
);

-- A name identifies one live key; a revoked key's name may be reused.
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;
