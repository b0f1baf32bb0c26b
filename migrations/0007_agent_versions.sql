-- Per-agent certificate versions. An agent's private key never leaves its host, so when several
-- agents serve one certificate each holds its own key and gets its own leaf (same names and
-- lifetime). A version issued from an agent's CSR records that agent and the renewal job it
-- answered: the job completes once every live agent serving the certificate has its version,
-- and an agent only ever fetches (and deploys) the leaf that matches its own key.
ALTER TABLE certificate_versions ADD COLUMN agent_id text REFERENCES agents (id) ON DELETE SET NULL;
ALTER TABLE certificate_versions ADD COLUMN job_id text REFERENCES jobs (id) ON DELETE SET NULL;
CREATE INDEX certificate_versions_agent_idx ON certificate_versions (certificate_id, agent_id, created_at DESC, id DESC)
  WHERE agent_id IS NOT NULL;
CREATE INDEX certificate_versions_job_idx ON certificate_versions (job_id, agent_id) WHERE job_id IS NOT NULL;
