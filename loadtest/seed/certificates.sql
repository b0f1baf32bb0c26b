-- Load-test certificates :from..:to (inclusive), Active, with expiry spread over the year after
-- their policy's 30-day renewal window (none is due: the renewal sweep leaves the seeded Active set
-- as it is during a run, as in a healthy inventory), and the inventory they reference.
-- Idempotent (ON CONFLICT DO NOTHING).
--   id = name = 'load-cert-' || lpad(i, 7, '0'), common_name = <id> || '.fleet.test'
--   psql -v from=1 -v to=10000 -f loadtest/seed/certificates.sql
-- bulk-table: certificates
INSERT INTO teams (id, name) VALUES ('load-team', 'load-team') ON CONFLICT DO NOTHING;
INSERT INTO owners (id, name, email, team_id) VALUES ('load-owner', 'load-owner', 'load@fleet.test', 'load-team') ON CONFLICT DO NOTHING;
INSERT INTO issuers (id, name, type) VALUES ('load-issuer', 'load-issuer', 'local') ON CONFLICT DO NOTHING;
INSERT INTO renewal_policies (id, name) VALUES ('load-policy', 'load-policy') ON CONFLICT DO NOTHING;

INSERT INTO certificates (id, name, common_name, sans, environment, owner_id, team_id, issuer_id, renewal_policy_id,
                          status, expires_at, created_at, updated_at)
SELECT 'load-cert-' || lpad(i::text, 7, '0'), 'load-cert-' || lpad(i::text, 7, '0'),
       'load-cert-' || lpad(i::text, 7, '0') || '.fleet.test',
       ARRAY['load-cert-' || lpad(i::text, 7, '0') || '.fleet.test'], 'load', 'load-owner', 'load-team', 'load-issuer',
       'load-policy', 'Active', now() + make_interval(days => 31 + i % 365), now() - make_interval(secs => i), now()
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;
