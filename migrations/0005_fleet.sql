-- Fleet: agent-bound API keys and heartbeat liveness.

-- An agent's key acts only for that agent (checked on every /api/v1/agents/{id}/... route).
ALTER TABLE api_keys ADD COLUMN agent_id text REFERENCES agents (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_agent_role CHECK ((role = 'agent') = (agent_id IS NOT NULL));

-- Liveness lives in its own narrow table, written by batched heartbeats. No index covers
-- last_heartbeat_at, so every heartbeat UPDATE stays a HOT update (no index maintenance).
-- `heartbeats` counts acknowledged heartbeats: tests check that none is ever lost.
CREATE TABLE agent_liveness (
  agent_id          text PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
  last_heartbeat_at timestamptz,
  heartbeats        bigint NOT NULL DEFAULT 0
) WITH (fillfactor = 70);

INSERT INTO agent_liveness (agent_id) SELECT id FROM agents;
