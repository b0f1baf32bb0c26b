-- ACME accounts are cached by every replica (src/acme/account-cache.ts): a JWS signed with a kid
-- names its account on every request. A change to an account (contact, status, key rollover, or
-- the row deleted) announces 'acme_accounts/<id>' through certfleet_announce (migration 0015):
-- every replica drops that account when its change feed hears it, the writing one before the
-- change is acknowledged.
CREATE FUNCTION acme_accounts_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM certfleet_announce('acme_accounts/' || CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
  RETURN NULL;
END;
$$;
CREATE TRIGGER acme_accounts_announce AFTER UPDATE OR DELETE ON acme_accounts FOR EACH ROW
  EXECUTE FUNCTION acme_accounts_announce();
