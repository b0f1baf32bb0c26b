// k6 run -e TARGET_URL=https://127.0.0.1:<port>/ loadtest/k6/nginx_handshake.js
// TARGET_URL: a nginx serving a certfleet-issued chain (`npm run loadtest -- nginx_handshake` starts one,
// deploys the chain through the agent's connector and drives it from Node instead).
// Rate, duration, VUs and thresholds come from loadtest/scenarios/nginx_handshake.js
// (override with -e RATE=, -e DURATION=, -e VUS=).
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';
import scenario from '../scenarios/nginx_handshake.js';
import { k6HandshakeScript } from './common.js';

const script = k6HandshakeScript(scenario, { http, Trend, Rate });
export const options = script.options;
export default script.iteration;
