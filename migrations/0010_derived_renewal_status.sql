-- RenewalInProgress is no longer stored: a certificate is RenewalInProgress while it has an open
-- issuance/renewal job (at most one, by jobs_one_open_issuance), and the API derives it from
-- that job. Storing it made every renewal rewrite its certificate row, a non-HOT update that
-- adds an entry to each of the table's 15 indexes: 100,000 renewals spent 13 s there on the
-- reference machine against 5 s for inserting their jobs (docs/operator/scale.md). It also kept
-- two records of one fact in step (cancel and completion had to restore the status).
UPDATE certificates SET status = CASE WHEN isfinite(expires_at) THEN 'Active' ELSE 'Pending' END
 WHERE status = 'RenewalInProgress';
ALTER TABLE certificates DROP CONSTRAINT certificates_status_check;
ALTER TABLE certificates ADD CONSTRAINT certificates_status_check
  CHECK (status IN ('Pending', 'Active', 'Expiring', 'Expired', 'Failed', 'Revoked', 'Archived'));

-- Only deployment jobs carry an agent: issuance/renewal jobs (the bulk ones) skip this index.
-- Every query that uses it filters on agent_id = $1, which implies agent_id IS NOT NULL.
DROP INDEX jobs_agent_idx;
CREATE INDEX jobs_agent_idx ON jobs (agent_id, status, id) WHERE agent_id IS NOT NULL;
