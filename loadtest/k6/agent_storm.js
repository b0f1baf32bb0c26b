// k6 run -e BASE_URL=http://127.0.0.1:8080 -e SEED=<seed secret> loadtest/k6/agent_storm.js
// Seed first: psql -v from=1 -v to=100000 -v seed=<seed secret> -f loadtest/seed/agents.sql
// (or let `npm run loadtest -- agent_storm` start, seed and drive a server on this machine).
// Rate, duration, VUs, warm-up and thresholds come from loadtest/scenarios/agent_storm.js
// (override with -e RATE=, -e DURATION=, -e VUS=, -e WARMUP=; seed sizes with -e AGENTS=, -e CERTIFICATES=).
import { sha256 } from 'k6/crypto';
import exec from 'k6/execution';
import http from 'k6/http';
import { Trend } from 'k6/metrics';
import scenario from '../scenarios/agent_storm.js';
import { k6Script } from './common.js';

const script = k6Script(scenario, { http, exec, sha256, Trend });
export const options = script.options;
export const setup = script.setup;
export default script.iteration;
