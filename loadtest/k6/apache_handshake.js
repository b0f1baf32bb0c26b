// k6 run -e TARGET_URL=https://127.0.0.1:<port>/ loadtest/k6/apache_handshake.js
// TARGET_URL: a apache serving a certfleet-issued chain (`npm run loadtest -- apache_handshake` starts one,
// deploys the chain through the agent's connector and drives it from Node instead).
// Rate, duration, VUs and thresholds come from loadtest/scenarios/apache_handshake.js
// (override with -e RATE=, -e DURATION=, -e VUS=).
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';
import scenario from '../scenarios/apache_handshake.js';
import { k6HandshakeScript } from './common.js';

const script = k6HandshakeScript(scenario, { http, Trend, Rate });
export const options = script.options;
export default script.iteration;
