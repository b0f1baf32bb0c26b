-- Change notifications for the caches of every replica (src/db/change-feed.ts): any statement that
-- changes what the certificates API presents sends NOTIFY certfleet_changes with the bucket it
-- touched, 'certificates/<stored status>' (the status before and after, for each changed row).
-- A cached list filtered by one status depends on that status's bucket alone, so creating a
-- Pending certificate leaves every cached Active list valid. NOTIFY is transactional: delivered
-- at commit, never for a rollback, and one per distinct payload per transaction.
CREATE FUNCTION certificates_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN
    SELECT status FROM new_rows UNION SELECT status FROM old_rows
  LOOP
    PERFORM pg_notify('certfleet_changes', 'certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE FUNCTION certificates_notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT status FROM new_rows LOOP
    PERFORM pg_notify('certfleet_changes', 'certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE FUNCTION certificates_notify_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT status FROM old_rows LOOP
    PERFORM pg_notify('certfleet_changes', 'certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE TRIGGER certificates_notify_insert AFTER INSERT ON certificates
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificates_notify_inserted();
CREATE TRIGGER certificates_notify_update AFTER UPDATE ON certificates
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificates_notify_changed();
CREATE TRIGGER certificates_notify_delete AFTER DELETE ON certificates
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION certificates_notify_deleted();

-- Issuance/renewal jobs make their certificate RenewalInProgress (derived status); target
-- mappings are presented as target_ids. Either changes the bucket of the certificate's status.
CREATE FUNCTION certificate_dependents_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  IF TG_TABLE_NAME = 'jobs' THEN
    FOR s IN
      SELECT DISTINCT c.status FROM certificates c
       WHERE c.id IN (SELECT certificate_id FROM changed_rows WHERE type IN ('Issuance', 'Renewal'))
    LOOP
      PERFORM pg_notify('certfleet_changes', 'certificates/' || s);
    END LOOP;
  ELSE
    FOR s IN SELECT DISTINCT c.status FROM certificates c WHERE c.id IN (SELECT certificate_id FROM changed_rows) LOOP
      PERFORM pg_notify('certfleet_changes', 'certificates/' || s);
    END LOOP;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_notify_insert AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_dependents_notify();
CREATE TRIGGER jobs_notify_update AFTER UPDATE ON jobs
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_dependents_notify();
CREATE TRIGGER jobs_notify_delete AFTER DELETE ON jobs
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_dependents_notify();
CREATE TRIGGER mappings_notify_insert AFTER INSERT ON certificate_target_mappings
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_dependents_notify();
CREATE TRIGGER mappings_notify_delete AFTER DELETE ON certificate_target_mappings
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION certificate_dependents_notify();
