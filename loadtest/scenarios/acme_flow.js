// acme_flow: complete ACME issuances as an RFC 8555 client does them, every step checked and each
// response's nonce used by the next request: a fresh nonce (HEAD newNonce), newOrder; when the
// order is pending, its authorization, the http-01 challenge answered and the authorization
// polled until valid; finalize with a P-256 CSR, the order polled while processing; then the
// certificate download. Against certfleet (profile load-acme trusts its EAB-bound accounts) the
// order is ready at once: 4 requests per flow. With --acme-mode challenge (profile
// load-acme-challenge) certfleet validates every authorization: http-01 against the driver's own
// responder, names resolved to 127.0.0.1 by pebble-challtestsrv. Against Pebble (`--target pebble`,
// PEBBLE_VA_ALWAYS_VALID) the challenge round trips and polls are made: 7 or more.
// Accounts (64) and CSRs (a pool of 256, one P-256 key each) are made before the run by the Node
// driver (loadtest/driver/acme.ts, ctx.acme); under k6 each VU makes its own with WebCrypto
// (loadtest/k6/acme.js), whose post() is asynchronous. Rate is flows/s.
const nonceOf = (headers) => {
  const nonce = headers['replay-nonce'];
  if (!nonce) throw new Error('no Replay-Nonce');
  return nonce;
};
const pathOf = (url) => url.replace(/^https?:\/\/[^/]+/, '');
/** Reads a finalized order: valid with its certificate, or processing (the next step polls it). */
const readFinalized = (state, body, headers) => {
  state.nonce = nonceOf(headers);
  if (body.status === 'processing') return;
  if (body.status !== 'valid' || !body.certificate) throw new Error(`order ${body.status}, not valid`);
  state.certificate = pathOf(body.certificate);
};
/** Reads a polled order: 'again' while it is processing. */
const readPolledOrder = (state, body, headers) =>
  body.status === 'processing' ? ((state.nonce = nonceOf(headers)), 'again') : readFinalized(state, body, headers);
/** Reads an authorization; 'again' while pending once its challenge has been answered. */
const readAuthorization = (state, body, headers) => {
  state.nonce = nonceOf(headers);
  if (body.status === 'valid') {
    state.authorization = undefined;
    return undefined;
  }
  if (body.status !== 'pending') throw new Error(`authorization ${body.status}`);
  if (state.challenge === undefined) {
    const challenge = body.challenges.find((c) => c.type === 'http-01');
    if (!challenge) throw new Error('no http-01 challenge');
    state.challenge = pathOf(challenge.url);
    state.token = challenge.token;
    return undefined;
  }
  return 'again';
};

export default {
  name: 'acme_flow',
  description:
    'ACME issuance end to end (P-256): new-nonce -> new-order [-> authorization -> challenge -> poll] -> finalize [-> poll] -> certificate (rate is flows/s)',
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
  acme: { accounts: 64, csrs: 256, profile: 'load-acme' },
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
    // Polls go again at once (10 ms): a client honouring Retry-After would measure the wait.
    pollMs: 10,
    steps: [
      (_s, ctx) => ({
        method: 'HEAD',
        path: ctx.acme.directory.newNonce,
        headers: {},
        body: null,
        expect: 200,
        then: (state, _body, headers) => (state.nonce = nonceOf(headers)),
      }),
      (s, ctx) =>
        ctx.acme.post(
          s.account,
          ctx.acme.directory.newOrder,
          { identifiers: [{ type: 'dns', value: s.request.name }], ...(ctx.acme.profile ? { profile: ctx.acme.profile } : {}) },
          s.nonce,
          201,
          (state, body, headers) => {
            state.nonce = nonceOf(headers);
            state.finalize = pathOf(body.finalize);
            state.order = pathOf(headers.location);
            if (body.status === 'pending') state.authorization = pathOf(body.authorizations[0]);
            else if (body.status !== 'ready') throw new Error(`order ${body.status}, not ready or pending`);
          },
        ),
      // The authorization: which challenge to answer (or valid already, reused).
      (s, ctx) => (s.authorization ? ctx.acme.post(s.account, s.authorization, '', s.nonce, 200, readAuthorization) : null),
      // Answer the challenge ({} says "ready to be validated", RFC 8555 7.5.1), once the driver's
      // http-01 responder serves its key authorization (--acme-mode challenge).
      (s, ctx) => {
        if (!s.authorization) return null;
        ctx.acme.serveChallenge(s.account, s.token);
        return ctx.acme.post(s.account, s.challenge, {}, s.nonce, 200, (state, _body, headers) => {
          state.nonce = nonceOf(headers);
        });
      },
      // Poll the authorization until valid.
      (s, ctx) => (s.authorization ? ctx.acme.post(s.account, s.authorization, '', s.nonce, 200, readAuthorization) : null),
      (s, ctx) => ctx.acme.post(s.account, s.finalize, { csr: s.request.csr }, s.nonce, 200, readFinalized),
      // Poll the order while it is processing (finalize left no certificate).
      (s, ctx) => (s.certificate ? null : ctx.acme.post(s.account, s.order, '', s.nonce, 200, readPolledOrder)),
      (s, ctx) =>
        ctx.acme.post(s.account, s.certificate, '', s.nonce, 200, (_state, body) => {
          if (typeof body !== 'string' || !body.startsWith('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM chain');
        }),
    ],
  },
};
