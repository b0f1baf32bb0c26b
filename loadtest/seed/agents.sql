-- Load-test agents :from..:to (inclusive), each with its own agent-bound API key derived from
-- :'seed' (the driver derives the same keys, so no key list is stored or shipped):
--   id  = 'load-agent-' || lpad(i, 7, '0')
--   key = 'cfk_' || base64url(sha256(seed || ':' || id))     (only sha256(key) is stored)
-- Idempotent (ON CONFLICT DO NOTHING). For load-test databases only: anyone who knows the seed
-- holds every agent's key.
--   psql -v from=1 -v to=100000 -v seed=my-seed -f loadtest/seed/agents.sql
INSERT INTO agents (id, name, hostname, status, os, architecture, version)
SELECT 'load-agent-' || lpad(i::text, 7, '0'), 'load-agent-' || lpad(i::text, 7, '0'),
       'load-' || i || '.fleet.test', 'Online', 'linux', 'x64', 'load'
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;

INSERT INTO agent_liveness (agent_id, last_heartbeat_at)
SELECT 'load-agent-' || lpad(i::text, 7, '0'), now()
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;

INSERT INTO api_keys (id, name, role, key_hash, agent_id)
SELECT 'ak-load-' || lpad(i::text, 7, '0'), 'load-agent-key-' || lpad(i::text, 7, '0'), 'agent',
       encode(sha256(convert_to('cfk_' || rtrim(translate(encode(sha256(convert_to(:'seed' || ':load-agent-' || lpad(i::text, 7, '0'), 'UTF8')), 'base64'), '+/', '-_'), '='), 'UTF8')), 'hex'),
       'load-agent-' || lpad(i::text, 7, '0')
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;
