-- API keys are cached by every replica for minutes (src/services/auth/api-keys.ts), so a
-- revocation must never go unheard. Through certfleet_announce alone, a change made in a unit of
-- work is announced by the writer after its COMMIT: a writer that died in between (kill -9, a
-- lost connection) left the other replicas trusting the key until their entry expired. Key
-- changes are rare, so they are also notified inside the transaction, which PostgreSQL delivers
-- with the COMMIT itself, to every listener or to none. The unit of work still collects the
-- bucket, so the writer acknowledges only once its own replica has heard it.
CREATE FUNCTION certfleet_announce_with_commit(bucket text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM certfleet_announce(bucket);
  IF current_setting('certfleet.unit', true) = 'on' THEN
    PERFORM pg_notify('certfleet_changes', bucket);
  END IF;
END;
$$;

CREATE OR REPLACE FUNCTION api_keys_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM certfleet_announce_with_commit('api_keys/' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
  RETURN NULL;
END;
$$;
