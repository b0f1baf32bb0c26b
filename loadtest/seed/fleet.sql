-- Load-test fleet mapping :from..:to (inclusive): agent i gets a File target serving certificate
-- i (run after agents.sql and certificates.sql with the same range). Idempotent.
--   psql -v from=1 -v to=10000 -f loadtest/seed/fleet.sql
INSERT INTO deployment_targets (id, name, type, agent_id, config)
SELECT 'load-target-' || lpad(i::text, 7, '0'), 'load-target-' || lpad(i::text, 7, '0'), 'File',
       'load-agent-' || lpad(i::text, 7, '0'), '{"cert_path": "/var/lib/certfleet-load/cert.pem"}'
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;

INSERT INTO certificate_target_mappings (certificate_id, target_id)
SELECT 'load-cert-' || lpad(i::text, 7, '0'), 'load-target-' || lpad(i::text, 7, '0')
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;
