-- What a deployment connector did on the agent's host (src/agent/connectors/): the files it
-- wrote, the commands it ran and their exits, the runtime-API steps, the leaf the daemon served
-- afterwards. Written by the agent's status report with the job's outcome; served as
-- last_deployment.report on /certificates/{id}/deployments. NULL for jobs reported before.
ALTER TABLE jobs ADD COLUMN deployment_report jsonb;
