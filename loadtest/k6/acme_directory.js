// k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_KEY=<admin key> loadtest/k6/acme_directory.js
// Seed first: psql -v from=1 -v to=1000 -f loadtest/seed/certificates.sql; psql -v from=1 -v to=1000 -f loadtest/seed/acme.sql
// (or let `npm run loadtest -- acme_directory` start, seed and drive a server on this machine).
// Rate, duration, VUs, warm-up and thresholds come from loadtest/scenarios/acme_directory.js
// (override with -e RATE=, -e DURATION=, -e VUS=, -e WARMUP=; seed sizes with -e AGENTS=, -e CERTIFICATES=).
import { sha256 } from 'k6/crypto';
import exec from 'k6/execution';
import http from 'k6/http';
import { Trend } from 'k6/metrics';
import scenario from '../scenarios/acme_directory.js';
import { k6Script } from './common.js';

const script = k6Script(scenario, { http, exec, sha256, Trend });
export const options = script.options;
export const setup = script.setup;
export default script.iteration;
