-- One statement trigger per certificates event instead of two (count deltas, migration 0013,
-- and change announcements, 0014/0015): each AFTER trigger with transition tables is a
-- plpgsql call of its own on every statement, and issuance updates a certificate per request.
CREATE FUNCTION certificates_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  INSERT INTO certificate_count_deltas (status, n)
  SELECT status, sum(n) FROM (
    SELECT o.status, -1 AS n FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE w.status <> o.status
    UNION ALL
    SELECT w.status, 1 FROM old_rows o JOIN new_rows w ON w.id = o.id WHERE w.status <> o.status
  ) d GROUP BY status HAVING sum(n) <> 0;
  FOR s IN SELECT status FROM new_rows UNION SELECT status FROM old_rows LOOP
    PERFORM certfleet_announce('certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE FUNCTION certificates_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN
    WITH counted AS (
      INSERT INTO certificate_count_deltas (status, n) SELECT status, count(*) FROM new_rows GROUP BY status RETURNING status
    )
    SELECT status FROM counted
  LOOP
    PERFORM certfleet_announce('certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE FUNCTION certificates_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN
    WITH counted AS (
      INSERT INTO certificate_count_deltas (status, n) SELECT status, -count(*) FROM old_rows GROUP BY status RETURNING status
    )
    SELECT status FROM counted
  LOOP
    PERFORM certfleet_announce('certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
DROP TRIGGER certificates_count_insert ON certificates;
DROP TRIGGER certificates_count_delete ON certificates;
DROP TRIGGER certificates_count_update ON certificates;
DROP TRIGGER certificates_notify_insert ON certificates;
DROP TRIGGER certificates_notify_update ON certificates;
DROP TRIGGER certificates_notify_delete ON certificates;
DROP FUNCTION certificate_count_inserted();
DROP FUNCTION certificate_count_deleted();
DROP FUNCTION certificate_count_updated();
DROP FUNCTION certificates_notify_inserted();
DROP FUNCTION certificates_notify_changed();
DROP FUNCTION certificates_notify_deleted();
CREATE TRIGGER certificates_after_insert AFTER INSERT ON certificates
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificates_after_insert();
CREATE TRIGGER certificates_after_update AFTER UPDATE ON certificates
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION certificates_after_update();
CREATE TRIGGER certificates_after_delete AFTER DELETE ON certificates
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION certificates_after_delete();
