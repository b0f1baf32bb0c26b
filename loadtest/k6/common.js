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
  const scenarios = warmup
    ? { warmup: { ...executor, duration: warmup }, [scenario.name]: { ...executor, startTime: warmup } }
    : { [scenario.name]: executor };
  const thresholds = {};
  for (const [metric, rules] of Object.entries(scenario.thresholds)) thresholds[warmup ? `${metric}{scenario:${scenario.name}}` : metric] = rules;
  return {
    scenarios,
    thresholds,
    summaryTrendStats: ['avg', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
    maxRedirects: 0,
  };
}

export function requestContext(scenario, sha256base64url) {
  const seed = __ENV.SEED || 'certfleet-load';
  return {
    baseUrl: (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    adminKey: __ENV.ADMIN_KEY || '',
    seed: scenario.seed || {},
    agentId: (n) => `load-agent-${String(n).padStart(7, '0')}`,
    agentKey: (id) => `cfk_${sha256base64url(`${seed}:${id}`)}`,
  };
}
