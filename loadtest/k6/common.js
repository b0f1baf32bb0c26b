// Shared by the k6 scripts: k6 options from a scenario definition, and the request context
// (base URL, seeded agent ids and keys) the definitions' request(i, ctx) functions use.

export function k6Options(scenario) {
  const rate = Number(__ENV.RATE || scenario.rate);
  const duration = __ENV.DURATION || scenario.duration;
  const vus = Number(__ENV.VUS || scenario.connections);
  const executor =
    scenario.executor === 'constant-arrival-rate'
      ? { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration, preAllocatedVUs: vus, maxVUs: vus * 4 }
      : { executor: 'constant-vus', vus, duration };
  // A warm-up phase runs first and is excluded from the thresholds (scoped to the scenario's tag).
  const warmup = __ENV.WARMUP || scenario.warmup;
  const scenarios = warmup ? { warmup: { ...executor, duration: warmup }, [scenario.name]: { ...executor, startTime: warmup } } : { [scenario.name]: executor };
  const thresholds = {};
  for (const [metric, rules] of Object.entries(scenario.thresholds)) thresholds[warmup ? `${metric}{scenario:${scenario.name}}` : metric] = rules;
  return {
    scenarios,
    thresholds,
    summaryTrendStats: ['avg', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
    maxRedirects: 0,
  };
}

/**
 * Everything a k6 script exports, from its scenario definition and the k6 modules (passed in so
 * this file imports nothing k6-specific):
 *   const script = k6Script(scenario, { http, exec, sha256, Trend });
 * ACME scenarios also pass `acme: k6AcmeContext` (./acme.js), which gives each VU its account,
 * CSRs and WebCrypto JWS signing as ctx.acme. Iterations are async (WebCrypto is). Flows that
 * poll (a step's `then` answering 'again') also pass k6's `sleep`.
 *
 *   export const options = script.options;
 *   export const setup = script.setup;
 *   export default script.iteration;
 */
export function k6Script(scenario, { http, exec, sha256, Trend, acme, sleep }) {
  const ctx = requestContext(scenario, (text) => sha256(text, 'base64rawurl'));
  // Flows: one iteration is several dependent requests; its duration is its own metric.
  const flowDuration = scenario.flow ? new Trend('flow_duration', true) : undefined;
  const send = (req) =>
    http.request(req.method, `${ctx.baseUrl}${req.path}`, req.body, {
      headers: req.headers,
      responseCallback: http.expectedStatuses(req.expect),
      tags: { name: `${scenario.name} ${req.method}` },
    });
  return {
    options: k6Options(scenario),
    setup: () => runSetup(scenario, ctx, http),
    async iteration(data) {
      // iterationInTest restarts in each k6 scenario: the warm-up gets its own run id, so names a
      // scenario creates (api_tier POSTs) never repeat.
      const runId = exec.scenario.name === scenario.name ? ctx.runId : `${ctx.runId}w`;
      const iterationCtx = { ...ctx, runId, setup: data || {} };
      if (scenario.acme) iterationCtx.acme = await acme(http, iterationCtx, scenario.acme, exec.vu.idInTest);
      const i = exec.scenario.iterationInTest;
      if (!scenario.flow) {
        send(scenario.request(i, iterationCtx));
        return;
      }
      const started = Date.now();
      const state = scenario.flow.begin(i, iterationCtx);
      // The Node driver's flow rules (loadtest/driver/flows.ts): a step answering null is skipped;
      // a `then` answering 'again' polls the same step after pollMs, at most maxPolls times.
      const steps = scenario.flow.steps;
      for (let s = 0, polls = 0; s < steps.length;) {
        // ACME steps sign with WebCrypto: a Promise of { request } (a request has a `then` callback,
        // which would make it a thenable that await calls; so it is never awaited bare).
        let req = steps[s](state, iterationCtx);
        if (req instanceof Promise) req = (await req).request;
        if (req === null) {
          s++;
          continue;
        }
        const res = send(req);
        if (res.status !== req.expect) return; // counted by http_req_failed
        let next;
        if (req.then) {
          // As the Node driver hands them over: JSON parsed (else the text), header names lower-case.
          const headers = Object.fromEntries(Object.entries(res.headers).map(([name, value]) => [name.toLowerCase(), value]));
          next = req.then(state, (headers['content-type'] || '').includes('json') ? res.json() : res.body, headers);
        }
        if (next === 'again') {
          if (++polls > (scenario.flow.maxPolls ?? 100)) throw new Error(`step ${s + 1}: still polling after ${polls - 1} polls`);
          sleep((scenario.flow.pollMs ?? 10) / 1000);
          continue;
        }
        s++;
        polls = 0;
      }
      flowDuration.add(Date.now() - started);
    },
  };
}

export function requestContext(scenario, sha256base64url) {
  const seed = __ENV.SEED || 'certfleet-load';
  return {
    runId: Date.now().toString(36),
    setup: {},
    baseUrl: (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    adminKey: __ENV.ADMIN_KEY || '',
    // ACME entry points on the target (another server: -e ACME_DIRECTORY=/dir -e ACME_NEW_NONCE=/nonce-plz).
    acmeDirectory: __ENV.ACME_DIRECTORY || '/acme/directory',
    acmeNewNonce: __ENV.ACME_NEW_NONCE || '/acme/new-nonce',
    // Seed sizes as seeded (override with -e AGENTS=, -e CERTIFICATES=).
    seed: Object.fromEntries(Object.entries(scenario.seed || {}).map(([kind, n]) => [kind, Number(__ENV[kind.toUpperCase()] || n)])),
    agentId: (n) => `load-agent-${String(n).padStart(7, '0')}`,
    agentKey: (id) => `cfk_${sha256base64url(`${seed}:${id}`)}`,
  };
}

/** The scenario's setup fetches (e.g. an ETag to revalidate), run once in k6's setup(). */
export function runSetup(scenario, ctx, http) {
  const data = {};
  for (const [name, step] of Object.entries(scenario.setup || {})) {
    const res = http.get(`${ctx.baseUrl}${step.path}`, { headers: { Authorization: `Bearer ${ctx.adminKey}` } });
    data[name] = res.headers[step.header.replace(/(^|-)([a-z])/g, (m, dash, c) => dash + c.toUpperCase())];
  }
  return data;
}

/**
 * A handshake scenario's script (nginx_handshake ...): each iteration an HTTPS GET to TARGET_URL on
 * a new connection (noConnectionReuse), timed from connect to response as handshake_duration:
 *   const script = k6HandshakeScript(scenario, { http, Trend, Rate });
 */
export function k6HandshakeScript(scenario, { http, Trend, Rate }) {
  const handshakeDuration = new Trend('handshake_duration', true);
  const handshakeFailed = new Rate('handshake_failed');
  return {
    // The daemon serves a certfleet-issued chain the load generator does not trust: what is
    // measured is the handshake, not the trust decision.
    options: { ...k6Options(scenario), noConnectionReuse: true, insecureSkipTLSVerify: true },
    iteration() {
      const res = http.get(__ENV.TARGET_URL, { responseCallback: http.expectedStatuses(200) });
      handshakeFailed.add(res.status !== 200);
      if (res.status === 200) handshakeDuration.add(res.timings.connecting + res.timings.tls_handshaking + res.timings.duration);
    },
  };
}
