-- Audit log: append-only, tamper-evident. Events are written in batches (group commit); each
-- batch takes the one-row chain head FOR UPDATE, numbers its rows after the head's seq and
-- chains their hashes (row_hash = sha256 over prev_hash and the canonical event). Verification:
-- `certfleet audit verify` walks seq order and names the first row whose hash does not match.
CREATE TABLE audit_events (
  seq           bigint PRIMARY KEY,
  id            text NOT NULL CONSTRAINT audit_events_id_key UNIQUE,
  actor         text NOT NULL,
  actor_type    text NOT NULL CHECK (actor_type IN ('APIKey', 'Agent', 'System', 'Anonymous')),
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_id   text NOT NULL,
  details       jsonb NOT NULL DEFAULT '{}',
  "timestamp"   timestamptz NOT NULL,
  category      text NOT NULL CHECK (category IN ('cert_lifecycle', 'auth', 'config', 'fleet')),
  prev_hash     text NOT NULL,
  row_hash      text NOT NULL
);
CREATE INDEX audit_events_category_idx ON audit_events (category, seq);
CREATE INDEX audit_events_actor_idx    ON audit_events (actor, seq);
CREATE INDEX audit_events_action_idx   ON audit_events (action, seq);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, seq);
CREATE INDEX audit_events_time_idx     ON audit_events ("timestamp", seq);

CREATE TABLE audit_chain_head (
  id        integer PRIMARY KEY CHECK (id = 1),
  last_seq  bigint NOT NULL,
  last_hash text NOT NULL
);
-- The chain starts from 64 zeros.
INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 0, repeat('0', 64));

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
