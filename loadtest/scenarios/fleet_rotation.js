// fleet_rotation: a certificate rotated end to end on its host, as a flow of five requests:
// an operator renews it, the agent polls for work (its CSR item), submits its CSR (issued in the
// worker pool, one deployment job created), polls again (claims the deployment) and reports it
// Completed. Read by loadtest/k6/fleet_rotation.js and the Node driver. Plain JavaScript.
// One fixed P-256 CSR stands in for the agent's locally generated key.
const csrPem =
  '-----BEGIN CERTIFICATE REQUEST-----\nMIHVMHwCAQAwGjEYMBYGA1UEAwwPbG9hZC5mbGVldC50ZXN0MFkwEwYHKoZIzj0C\nAQYIKoZIzj0DAQcDQgAEVAAK8NFZeyOp2VJutI/EGZB4M+jV1M88qY2GQQ9lah1p\n946j9rcHcOjfHRmC8bdxFR9RrV7NbBITLA1w80f66qAAMAoGCCqGSM49BAMCA0kA\nMEYCIQDVh0ItRw2QTdKk0ccOWlJMPBVzs5yv0VW7+dkAv0VmmgIhANnoV4dJQRDR\nkimuCAiB/DguHO9ym7wLwK3tWsXsu4iJ\n-----END CERTIFICATE REQUEST-----\n';
const pad = (n) => String(n).padStart(7, '0');
/** The agent's work poll; `then` reads the item this flow waits for into the state. */
const pollWork = (s, then) => ({ method: 'GET', path: `/api/v1/agents/${s.agent}/work`, headers: s.auth, body: null, expect: 200, then });

export default {
  name: 'fleet_rotation',
  description: 'Renew -> agent polls work -> submits its CSR -> polls its deployment -> reports Completed (5 requests per flow; rate is flows/s)',
  executor: 'constant-arrival-rate',
  rate: 100, // flows per second (500 requests/s)
  duration: '60s',
  warmup: '5s',
  connections: 64, // flows in flight at most
  thresholds: {
    http_req_failed: ['rate==0'],
    flow_duration: ['p(95)<250', 'p(99)<500'],
  },
  // Agent i serves certificate i through one File target (loadtest/seed/fleet.sql).
  seed: { agents: 10000, certificates: 10000, fleet: 10000 },
  flow: {
    begin(i, ctx) {
      const n = (i % ctx.seed.fleet) + 1;
      const agent = ctx.agentId(n);
      return { agent, cert: `load-cert-${pad(n)}`, auth: { Authorization: `Bearer ${ctx.agentKey(agent)}` } };
    },
    steps: [
      (s, ctx) => ({
        method: 'POST',
        path: `/api/v1/certificates/${s.cert}/renew`,
        headers: { Authorization: `Bearer ${ctx.adminKey}` },
        body: null,
        expect: 202,
      }),
      (s) =>
        pollWork(s, (state, body) => {
          if (!body.csr.some((w) => w.certificate_id === state.cert && w.type === 'Renewal')) throw new Error('no renewal CSR work');
        }),
      (s) => ({
        method: 'POST',
        path: `/api/v1/agents/${s.agent}/csr`,
        headers: { ...s.auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ certificate_id: s.cert, csr_pem: csrPem }),
        expect: 201,
      }),
      (s) =>
        pollWork(s, (state, body) => {
          const job = body.deployments.find((d) => d.certificate_id === state.cert);
          if (!job) throw new Error('no deployment work');
          state.job = job.job_id;
        }),
      (s) => ({
        method: 'POST',
        path: `/api/v1/agents/${s.agent}/jobs/${s.job}/status`,
        headers: { ...s.auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ status: 'Completed' }),
        expect: 200,
      }),
    ],
  },
};
