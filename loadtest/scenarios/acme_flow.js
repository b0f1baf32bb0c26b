// acme_flow: complete ACME issuances as a client does them, each a flow of four requests: a
// fresh nonce (HEAD new-nonce), new-order (JWS, kid), finalize with a P-256 CSR (the order is
// valid at once: profile load-acme trusts its EAB-bound accounts, no challenge) and the
// certificate download; every step checked, each response's nonce used by the next request.
// Accounts (64, EAB-bound) and CSRs (a pool of 256, one P-256 key each) are made before the run
// by the Node driver (loadtest/driver/acme.ts, ctx.acme); under k6 each VU makes its own with
// WebCrypto (loadtest/k6/acme.js), whose post() is asynchronous. Rate is flows/s.
const nonceOf = (headers) => {
  const nonce = headers['replay-nonce'];
  if (!nonce) throw new Error('no Replay-Nonce');
  return nonce;
};
const pathOf = (url) => url.replace(/^https?:\/\/[^/]+/, '');

export default {
  name: 'acme_flow',
  description: 'ACME issuance end to end (trust mode, P-256): new-nonce -> new-order -> finalize -> certificate (4 requests per flow; rate is flows/s)',
  executor: 'constant-arrival-rate',
  rate: 500,
  duration: '60s',
  warmup: '5s',
  connections: 64, // flows in flight at most
  thresholds: {
    http_req_failed: ['rate==0'],
    flow_duration: ['p(99)<250'],
  },
  // certificates.sql makes the load inventory the profile points at; acme.sql the profile.
  seed: { certificates: 1, acme: 1 },
  acme: { accounts: 64, csrs: 256 },
  verify: 'acme_certificates_durable',
  // Row counts through the run: the ACME GC keeps spent nonces and rate-limit rows bounded (steady
  // once the nonce TTL and a GC interval have passed: run with --server-env
  // CERTFLEET_ACME_NONCE_TTL_SECONDS=60 and CERTFLEET_ACME_GC_INTERVAL_SECONDS=5 to see it within
  // minutes); orders of issued certificates stay as long as their certificates, so they grow.
  tables: {
    bounded: ['acme_spent_nonces', 'acme_rate_limits', 'acme_accounts'],
    growing: ['acme_orders', 'acme_authorizations', 'certificates'],
    settleSeconds: (env) => Number(env.CERTFLEET_ACME_NONCE_TTL_SECONDS ?? 1800) + Number(env.CERTFLEET_ACME_GC_INTERVAL_SECONDS ?? 60),
  },
  flow: {
    begin(i, ctx) {
      return { account: ctx.acme.account(i), request: ctx.acme.csr(i) };
    },
    steps: [
      () => ({
        method: 'HEAD',
        path: '/acme/new-nonce',
        headers: {},
        body: null,
        expect: 200,
        then: (state, _body, headers) => (state.nonce = nonceOf(headers)),
      }),
      (s, ctx) =>
        ctx.acme.post(
          s.account,
          '/acme/new-order',
          { identifiers: [{ type: 'dns', value: s.request.name }], profile: 'load-acme' },
          s.nonce,
          201,
          (state, body, headers) => {
            if (body.status !== 'ready') throw new Error(`order ${body.status}, not ready`);
            state.finalize = pathOf(body.finalize);
            state.nonce = nonceOf(headers);
          },
        ),
      (s, ctx) =>
        ctx.acme.post(s.account, s.finalize, { csr: s.request.csr }, s.nonce, 200, (state, body, headers) => {
          if (body.status !== 'valid' || !body.certificate) throw new Error(`finalized order ${body.status}`);
          state.certificate = pathOf(body.certificate);
          state.nonce = nonceOf(headers);
        }),
      (s, ctx) =>
        ctx.acme.post(s.account, s.certificate, '', s.nonce, 200, (_state, body) => {
          if (typeof body !== 'string' || !body.startsWith('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM chain');
        }),
    ],
  },
};
