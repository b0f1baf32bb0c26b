-- An agent's work poll may wait for work (GET /api/v1/agents/<id>/work?wait=N): the replica
-- holding it answers as soon as 'agent_work/<agent id>' is announced (src/services/fleet/
-- work-wakeups.ts). Announced here, for the agents that can act at once:
-- - a Deployment job becomes Pending (created, or back from a failed attempt): its agent;
-- - an Issuance or Renewal job becomes AwaitingCSR: every agent with an enabled target the
--   certificate is mapped to (each of them answers with its own CSR);
-- - a certificate is mapped to a target, or a target is enabled: that target's agent (an
--   Enrollment: the agent holds no key for the certificate yet).
-- A spurious announcement costs the woken poll one query; a missed one costs the agent up to
-- its wait, the poll interval it had before.

-- certfleet_announce for many buckets at once: a bulk renewal names thousands of agents, and
-- certfleet_announce's duplicate check scans the whole collected list per call.
CREATE FUNCTION certfleet_announce_all(buckets text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE seen text;
BEGIN
  IF buckets IS NULL OR cardinality(buckets) = 0 THEN
    RETURN;
  END IF;
  IF current_setting('certfleet.unit', true) = 'on' THEN
    seen := coalesce(current_setting('certfleet.changed', true), '');
    PERFORM set_config('certfleet.changed',
      (SELECT string_agg(b, ',') FROM (SELECT unnest(string_to_array(nullif(seen, ''), ',')) UNION SELECT unnest(buckets)) AS u(b)),
      true);
  ELSE
    PERFORM pg_notify('certfleet_changes', b) FROM (SELECT DISTINCT unnest(buckets)) AS u(b);
  END IF;
END;
$$;

-- Jobs and mappings already run certificate_dependents_notify once per statement (migrations
-- 0014/0015): the agents' buckets are added there, one trigger call per statement, not two.
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
    IF TG_OP <> 'DELETE' THEN
      PERFORM certfleet_announce_all(ARRAY(
        SELECT 'agent_work/' || n.agent_id FROM changed_rows n
         WHERE n.type = 'Deployment' AND n.status = 'Pending' AND n.agent_id IS NOT NULL
        UNION
        SELECT 'agent_work/' || t.agent_id FROM changed_rows n
          JOIN certificate_target_mappings m ON m.certificate_id = n.certificate_id
          JOIN deployment_targets t ON t.id = m.target_id AND t.enabled
         WHERE n.type IN ('Issuance', 'Renewal') AND n.status = 'AwaitingCSR'));
    END IF;
  ELSE
    FOR s IN SELECT DISTINCT c.status FROM certificates c WHERE c.id IN (SELECT certificate_id FROM changed_rows) LOOP
      PERFORM certfleet_announce('certificates/' || s);
    END LOOP;
    IF TG_OP = 'INSERT' THEN
      PERFORM certfleet_announce_all(ARRAY(
        SELECT DISTINCT 'agent_work/' || t.agent_id FROM changed_rows m JOIN deployment_targets t ON t.id = m.target_id AND t.enabled));
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION targets_announce_agent_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM certfleet_announce('agent_work/' || NEW.agent_id);
  RETURN NULL;
END;
$$;
CREATE TRIGGER targets_announce_agent_work AFTER UPDATE ON deployment_targets FOR EACH ROW
  WHEN (NEW.enabled AND (NOT OLD.enabled OR OLD.agent_id IS DISTINCT FROM NEW.agent_id))
  EXECUTE FUNCTION targets_announce_agent_work();
