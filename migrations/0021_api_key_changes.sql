-- API keys are cached by every replica (src/services/auth/api-keys.ts). A change that decides
-- whether a key authenticates, or as whom (revoked, expiry, role, name, agent, deleted with its
-- agent), announces 'api_keys/<id>' through certfleet_announce (migration 0015): every replica
-- evicts that key when its change feed hears it. The batched last_used_at writes announce nothing.
CREATE FUNCTION api_keys_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM certfleet_announce('api_keys/' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
  RETURN NULL;
END;
$$;
CREATE TRIGGER api_keys_announce_update AFTER UPDATE ON api_keys FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
     OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
     OR OLD.role IS DISTINCT FROM NEW.role
     OR OLD.name IS DISTINCT FROM NEW.name
     OR OLD.key_hash IS DISTINCT FROM NEW.key_hash
     OR OLD.agent_id IS DISTINCT FROM NEW.agent_id)
  EXECUTE FUNCTION api_keys_announce();
CREATE TRIGGER api_keys_announce_delete AFTER DELETE ON api_keys FOR EACH ROW
  EXECUTE FUNCTION api_keys_announce();
