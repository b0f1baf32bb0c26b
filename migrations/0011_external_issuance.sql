-- Issuance through external CAs (issuer type 'acme' first), done server-side by the job
-- processor: a CSR for a certificate whose issuer is external becomes a Signing job carrying
-- the CSR, answering the open issuance/renewal job (parent_job_id) for one agent (or none, for
-- REST). external_ref records the CA's order, so a job picked up again after a crash resumes
-- polling that order instead of placing a second one. While Running, the processor renews the
-- job's lease (updated_at); job-timeouts requeues a Signing job whose lease lapsed.
ALTER TABLE issuers DROP CONSTRAINT issuers_type_check;
ALTER TABLE issuers ADD CONSTRAINT issuers_type_check CHECK (type IN ('local', 'acme'));

ALTER TABLE jobs DROP CONSTRAINT jobs_type_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_type_check CHECK (type IN ('Issuance', 'Renewal', 'Deployment', 'Signing'));
ALTER TABLE jobs ADD COLUMN csr_pem text;
ALTER TABLE jobs ADD COLUMN parent_job_id text REFERENCES jobs (id) ON DELETE CASCADE;
ALTER TABLE jobs ADD COLUMN external_ref text;
-- One open Signing job per answered job and agent: a CSR submitted twice is not ordered twice.
CREATE UNIQUE INDEX jobs_one_open_signing ON jobs (parent_job_id, coalesce(agent_id, ''))
  WHERE type = 'Signing' AND status IN ('Pending', 'Running');
-- The processor's claim: due Pending Signing jobs, oldest first.
CREATE INDEX jobs_signing_due_idx ON jobs (scheduled_at, id) WHERE type = 'Signing' AND status = 'Pending';

-- HTTP-01 key authorizations the ACME connector is answering: served at
-- /.well-known/acme-challenge/{token} (point your names' challenge path at certfleet).
CREATE TABLE acme_challenge_responses (
  token             text PRIMARY KEY,
  key_authorization text NOT NULL,
  expires_at        timestamptz NOT NULL
);
