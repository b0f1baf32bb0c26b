// k6 run -e BASE_URL=http://127.0.0.1:8080 -e SEED=<seed secret> loadtest/k6/agent_storm.js
// Seed first: psql -v from=1 -v to=100000 -v seed=<seed secret> -f loadtest/seed/agents.sql
// (or let `npm run loadtest -- agent_storm` start, seed and drive a server on this machine).
import { sha256 } from 'k6/crypto';
import exec from 'k6/execution';
import http from 'k6/http';
import scenario from '../scenarios/agent_storm.js';
import { k6Options, requestContext } from './common.js';

export const options = k6Options(scenario);
const ctx = requestContext(scenario, (text) => sha256(text, 'base64rawurl'));

export default function () {
  const req = scenario.request(exec.scenario.iterationInTest, ctx);
  http.request(req.method, `${ctx.baseUrl}${req.path}`, req.body, {
    headers: req.headers,
    responseCallback: http.expectedStatuses(req.expect),
    tags: { name: scenario.name },
  });
}
