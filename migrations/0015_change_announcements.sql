-- NOTIFY inside a writing transaction takes PostgreSQL's global notify lock at commit and holds
-- it through the commit's WAL flush, so every notifying transaction commits one after another:
-- certificate creates fell to 231/s (wrk, 32 connections; 2 ms of statement time each). Changes
-- made in a certfleet unit of work (SET LOCAL certfleet.unit = 'on') are now collected in the
-- transaction-local setting certfleet.changed, read with the COMMIT, and announced by the
-- writing replica afterwards on its change-feed connection, outside any transaction
-- (src/db/unit-of-work.ts, src/db/change-feed.ts). Any other transaction (SQL run by hand,
-- another tool) still notifies directly: no change goes unannounced.
CREATE FUNCTION certfleet_announce(bucket text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE seen text;
BEGIN
  IF current_setting('certfleet.unit', true) = 'on' THEN
    seen := coalesce(current_setting('certfleet.changed', true), '');
    IF position(',' || bucket || ',' IN ',' || seen || ',') = 0 THEN
      PERFORM set_config('certfleet.changed', CASE WHEN seen = '' THEN bucket ELSE seen || ',' || bucket END, true);
    END IF;
  ELSE
    PERFORM pg_notify('certfleet_changes', bucket);
  END IF;
END;
$$;

CREATE OR REPLACE FUNCTION certificates_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN SELECT status FROM new_rows UNION SELECT status FROM old_rows LOOP
    PERFORM certfleet_announce('certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION certificates_notify_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT status FROM new_rows LOOP
    PERFORM certfleet_announce('certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION certificates_notify_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  FOR s IN SELECT DISTINCT status FROM old_rows LOOP
    PERFORM certfleet_announce('certificates/' || s);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE FUNCTION certificate_dependents_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
  IF TG_TABLE_NAME = 'jobs' THEN
    FOR s IN
      SELECT DISTINCT c.status FROM certificates c
       WHERE c.id IN (SELECT certificate_id FROM changed_rows WHERE type IN ('Issuance', 'Renewal'))
    LOOP
      PERFORM certfleet_announce('certificates/' || s);
    END LOOP;
  ELSE
    FOR s IN SELECT DISTINCT c.status FROM certificates c WHERE c.id IN (SELECT certificate_id FROM changed_rows) LOOP
      PERFORM certfleet_announce('certificates/' || s);
    END LOOP;
  END IF;
  RETURN NULL;
END;
$$;
