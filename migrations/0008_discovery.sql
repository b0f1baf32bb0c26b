-- Discovery: certificates found on hosts by their agents' filesystem scans.
-- Every field of a discovered certificate is derived by the server from the certificate itself
-- (an agent reports only the certificate and where it found it), so inventory cannot be spoofed
-- with made-up names or dates.
CREATE TABLE discovery_scans (
  id                 text PRIMARY KEY,
  agent_id           text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  directories        text[] NOT NULL DEFAULT '{}',
  certificates_found integer NOT NULL,
  certificates_new   integer NOT NULL,
  errors_count       integer NOT NULL,
  errors             text[] NOT NULL DEFAULT '{}',
  scan_duration_ms   integer NOT NULL,
  started_at         timestamptz NOT NULL,
  completed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX discovery_scans_agent_idx ON discovery_scans (agent_id, id);

CREATE TABLE discovered_certificates (
  id                     text PRIMARY KEY,
  fingerprint_sha256     text NOT NULL,
  common_name            text NOT NULL,
  sans                   text[] NOT NULL DEFAULT '{}',
  serial_number          text NOT NULL,
  issuer_dn              text NOT NULL,
  subject_dn             text NOT NULL,
  not_before             timestamptz NOT NULL,
  not_after              timestamptz NOT NULL,
  key_algorithm          text NOT NULL,
  key_size               integer NOT NULL,
  is_ca                  boolean NOT NULL,
  pem_data               text NOT NULL,
  source_path            text NOT NULL,
  source_format          text NOT NULL CHECK (source_format IN ('PEM', 'DER')),
  agent_id               text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  discovery_scan_id      text REFERENCES discovery_scans (id) ON DELETE SET NULL,
  managed_certificate_id text REFERENCES certificates (id) ON DELETE SET NULL,
  status                 text NOT NULL DEFAULT 'Unmanaged' CHECK (status IN ('Unmanaged', 'Managed', 'Dismissed')),
  first_seen_at          timestamptz NOT NULL DEFAULT now(),
  last_seen_at           timestamptz NOT NULL DEFAULT now(),
  dismissed_at           timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT discovered_certificates_location_key UNIQUE (fingerprint_sha256, agent_id, source_path)
);
-- Keyset lists by id, filtered by agent or status; expiry reports by not_after.
CREATE INDEX discovered_certificates_agent_idx ON discovered_certificates (agent_id, id);
CREATE INDEX discovered_certificates_status_idx ON discovered_certificates (status, id);
CREATE INDEX discovered_certificates_not_after_idx ON discovered_certificates (not_after);
CREATE INDEX discovered_certificates_managed_idx ON discovered_certificates (managed_certificate_id)
  WHERE managed_certificate_id IS NOT NULL;
