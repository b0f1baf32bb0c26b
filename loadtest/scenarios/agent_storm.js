// agent_storm: heartbeats from a large fleet, each agent with its own key. Read by the k6 script
// (loadtest/k6/agent_storm.js) and by the Node driver (npm run loadtest -- agent_storm), so the
// two cannot drift. Plain JavaScript with no imports: k6 and Node both load it.
export default {
  name: 'agent_storm',
  description: 'POST /api/v1/agents/{id}/heartbeat from N seeded agents, each authenticated with its own agent-bound key',
  // Open loop: requests start on schedule whatever the server's latency (no coordinated omission).
  executor: 'constant-arrival-rate',
  rate: 35000, // requests per second
  duration: '60s',
  // Not measured: 100,000 keys the server has never seen must reach its cache first (the cold
  // start is reported separately).
  warmup: '15s',
  connections: 256, // k6: pre-allocated VUs
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(99)<25'],
  },
  seed: { agents: 100000 },
  // Checked by the driver after the run: every acknowledged heartbeat is in the database.
  verify: 'heartbeats_durable',
  // request(i) repeats every `agents` requests: the driver encodes each one once.
  cycle: (ctx) => ctx.seed.agents,
  /**
   * Request number i (0-based) of the run. `ctx.agentId(n)` and `ctx.agentKey(id)` derive a
   * seeded agent's id and key (loadtest/seed/agents.sql), so nothing big is shipped.
   */
  request(i, ctx) {
    const id = ctx.agentId((i % ctx.seed.agents) + 1);
    return {
      method: 'POST',
      path: `/api/v1/agents/${id}/heartbeat`,
      headers: { Authorization: `Bearer ${ctx.agentKey(id)}` },
      body: null,
      expect: 200,
    };
  },
};
