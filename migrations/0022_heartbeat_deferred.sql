-- Heartbeats across replicas (src/db/agents.ts writeHeartbeats): a batch updates the liveness
-- rows it can lock at once (FOR NO KEY UPDATE SKIP LOCKED) and appends the heartbeats of rows
-- another replica's batch holds right now to this table, in the same commit, instead of waiting
-- for that batch's commit (its fsync). Nothing is lost and no batch waits on another; the leader
-- folds these rows into agent_liveness before marking agents Offline (src/scheduler/agent-health.ts).
-- No index and no foreign key: appends stay cheap; the fold joins on agent_liveness.
CREATE TABLE heartbeat_deferred (
  agent_id    text NOT NULL,
  heartbeats  int NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
