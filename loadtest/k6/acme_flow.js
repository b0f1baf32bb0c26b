// k6 run -e BASE_URL=http://127.0.0.1:8080 -e ADMIN_KEY=<admin key> loadtest/k6/acme_flow.js
// Seed first: loadtest/seed/certificates.sql and acme.sql (the load-acme profile, which trusts
// EAB-bound accounts), or let `npm run loadtest -- acme_flow` start, seed and drive a server here.
// Each VU registers one EAB-bound account on its first iteration (the admin key makes the EAB
// key) and signs with k6's WebCrypto (global crypto, k6 >= 0.52). Rate (flows/s), duration, VUs,
// warm-up and thresholds come from loadtest/scenarios/acme_flow.js (-e RATE=, -e DURATION=, ...).
// One account per VU: a run of more than 300 flows per VU in an hour meets the server's new-order
// limit (429): raise CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR on the server for
// long runs (the Node driver makes enough accounts instead).
// Against Pebble: -e BASE_URL=https://127.0.0.1:14000 -e ACME_DIRECTORY=/dir (accounts without EAB,
// the challenge answered and polled as the flow says; k6 must trust Pebble's TLS certificate).
import { sleep } from 'k6';
import { sha256 } from 'k6/crypto';
import exec from 'k6/execution';
import http from 'k6/http';
import { Trend } from 'k6/metrics';
import scenario from '../scenarios/acme_flow.js';
import { k6AcmeContext } from './acme.js';
import { k6Script } from './common.js';

const script = k6Script(scenario, { http, exec, sha256, Trend, acme: k6AcmeContext, sleep });
export const options = script.options;
export const setup = script.setup;
export default script.iteration;
