-- A profile change was announced by a NOTIFY inside its own transaction (migration 0020), which
-- the writing replica's change feed receives at some point after the COMMIT, not before the
-- write is acknowledged: a directory read right after a PATCH could still list the old profile
-- (seen in CI). Announced through certfleet_announce like every other change, the bucket is
-- collected with the COMMIT and the writer acknowledges only once its announcement came back
-- (src/db/unit-of-work.ts, src/db/change-feed.ts); other transactions still notify directly.
CREATE OR REPLACE FUNCTION certificate_profiles_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM certfleet_announce('certificate_profiles');
  RETURN NULL;
END;
$$;
