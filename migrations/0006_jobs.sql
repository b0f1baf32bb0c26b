-- Jobs: issuance, renewal and deployment work. A partial unique index guarantees at most one
-- open issuance/renewal job per certificate, so concurrent renew requests (or replicas) can never
-- enqueue twice: the second INSERT fails and becomes a 409.
CREATE TABLE jobs (
  id             text PRIMARY KEY,
  type           text NOT NULL CHECK (type IN ('Issuance', 'Renewal', 'Deployment')),
  certificate_id text NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
  target_id      text REFERENCES deployment_targets (id) ON DELETE SET NULL,
  agent_id       text REFERENCES agents (id) ON DELETE SET NULL,
  status         text NOT NULL CHECK (status IN ('Pending', 'AwaitingCSR', 'Running', 'Completed', 'Failed', 'Cancelled')),
  attempts       integer NOT NULL DEFAULT 0,
  max_attempts   integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
  last_error     text,
  scheduled_at   timestamptz NOT NULL DEFAULT now(),
  started_at     timestamptz,
  completed_at   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX jobs_one_open_issuance ON jobs (certificate_id)
  WHERE type IN ('Issuance', 'Renewal') AND status IN ('Pending', 'AwaitingCSR', 'Running');
CREATE INDEX jobs_status_idx ON jobs (status, id);
CREATE INDEX jobs_certificate_idx ON jobs (certificate_id, id);
CREATE INDEX jobs_agent_idx ON jobs (agent_id, status, id);
