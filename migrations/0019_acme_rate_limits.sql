-- Cluster-wide ACME rate limits (src/acme/rate-limits.ts): one row per limit and key holding
-- the GCRA "theoretical arrival time". Every replica updates the same row, so N replicas
-- enforce one limit. A row whose time is past is a full bucket: the ACME GC deletes it.
CREATE TABLE acme_rate_limits (
  name  text NOT NULL,
  key   text NOT NULL,
  tat   timestamptz NOT NULL,
  PRIMARY KEY (name, key)
);
CREATE INDEX acme_rate_limits_tat_idx ON acme_rate_limits (tat);
