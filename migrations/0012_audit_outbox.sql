-- Audit events commit with the write they describe. A request's transaction inserts its events
-- here (an outbox), so a write and its event commit together or not at all, and no request
-- waits on (or is failed by) another request's event. The chainer then moves committed events
-- into audit_events in batches under the chain head lock, numbering and hashing them; every
-- replica chains (the head lock serialises them), after each commit and on a timer, so events
-- a killed replica committed are chained by the next pass anywhere.
CREATE TABLE audit_pending (
  pending_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id            text NOT NULL,
  actor         text NOT NULL,
  actor_type    text NOT NULL CHECK (actor_type IN ('APIKey', 'Agent', 'System', 'Anonymous')),
  action        text NOT NULL,
  resource_type text NOT NULL,
  resource_id   text NOT NULL,
  details       jsonb NOT NULL DEFAULT '{}',
  "timestamp"   timestamptz NOT NULL DEFAULT now(),
  category      text NOT NULL CHECK (category IN ('cert_lifecycle', 'auth', 'config', 'fleet'))
);

