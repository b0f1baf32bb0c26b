// ACME for the k6 scripts (acme_flow): the same ctx.acme the Node driver gives the scenario
// (loadtest/driver/acme.ts), built with k6's WebCrypto (the global `crypto`, k6 >= 0.52): each
// VU registers its own EAB-bound account on its first iteration and makes a small pool of CSRs
// (P-256, DER built here), then signs every JWS with ECDSA P-256 (ES256). Plain JavaScript with
// no Node.js or k6 module imports: the http module is passed in.

const subtle = () => globalThis.crypto.subtle;

const base64url = (bytes) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63];
    if (i + 1 < bytes.length) out += alphabet[(n >> 6) & 63];
    if (i + 2 < bytes.length) out += alphabet[n & 63];
  }
  return out;
};
const fromBase64url = (text) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const c of text) {
    value = (value << 6) | alphabet.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 255);
    }
  }
  return new Uint8Array(bytes);
};
/** ACME's JSON is ASCII here (names, URLs, base64url): one byte per character. */
const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const b64json = (value) => base64url(ascii(JSON.stringify(value)));

// DER, as much as a PKCS#10 request needs (X.690).
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const tlv = (tag, ...content) => {
  const body = concat(...content);
  const n = body.length;
  const length = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 255];
  return concat(Uint8Array.of(tag, ...length), body);
};
const sequence = (...content) => tlv(0x30, ...content);
const oid = (dotted) => {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const groups = [arc & 127];
    for (let v = arc >> 7; v > 0; v >>= 7) groups.unshift((v & 127) | 128);
    bytes.push(...groups);
  }
  return tlv(0x06, Uint8Array.from(bytes));
};
/** An unsigned big-endian integer as DER INTEGER (no redundant zeros, a zero before a high bit). */
const unsignedInteger = (bytes) => {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.slice(start);
  return tlv(0x02, trimmed[0] & 0x80 ? concat(Uint8Array.of(0), trimmed) : trimmed);
};

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' };
const es256 = { name: 'ECDSA', hash: 'SHA-256' };

/** A CSR for `name` (CN and one DNS SAN) with a new P-256 key, base64url DER as finalize takes it. */
async function makeCsr(name) {
  const keys = await subtle().generateKey(ecdsa, true, ['sign', 'verify']);
  const spki = new Uint8Array(await subtle().exportKey('spki', keys.publicKey));
  const subject = sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, ascii(name)))));
  const san = sequence(oid('2.5.29.17'), tlv(0x04, sequence(tlv(0x82, ascii(name)))));
  const extensionRequest = sequence(oid('1.2.840.113549.1.9.14'), tlv(0x31, sequence(san)));
  const info = sequence(tlv(0x02, Uint8Array.of(0)), subject, spki, tlv(0xa0, extensionRequest));
  const raw = new Uint8Array(await subtle().sign(es256, keys.privateKey, info)); // r || s, 32 bytes each
  const signature = sequence(unsignedInteger(raw.slice(0, 32)), unsignedInteger(raw.slice(32)));
  return base64url(sequence(info, sequence(oid('1.2.840.10045.4.3.2')), tlv(0x03, Uint8Array.of(0), signature)));
}

async function jws(privateKey, header, payload) {
  const protectedB64 = b64json({ alg: 'ES256', ...header });
  const payloadB64 = payload === '' ? '' : b64json(payload);
  const signature = new Uint8Array(await subtle().sign(es256, privateKey, ascii(`${protectedB64}.${payloadB64}`)));
  return JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: base64url(signature) });
}

const header = (res, name) => {
  for (const [key, value] of Object.entries(res.headers)) if (key.toLowerCase() === name) return value;
  return '';
};

/** An EAB binding (RFC 8555 7.3.4) with a key the admin API creates. */
async function externalAccountBinding(http, ctx, label, jwk, url) {
  const admin = { headers: { Authorization: `Bearer ${ctx.adminKey}`, 'Content-Type': 'application/json' }, responseCallback: http.expectedStatuses(201) };
  const eabRes = http.post(`${ctx.baseUrl}/api/v1/acme/eab-keys`, JSON.stringify({ name: `k6 ${label}` }), admin);
  if (eabRes.status !== 201) throw new Error(`creating an EAB key answered ${eabRes.status}: ${eabRes.body}`);
  const eab = eabRes.json();
  const hmacKey = await subtle().importKey('raw', fromBase64url(eab.hmac_key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const bindingProtected = b64json({ alg: 'HS256', kid: eab.id, url });
  const bindingPayload = b64json(jwk);
  const mac = new Uint8Array(await subtle().sign('HMAC', hmacKey, ascii(`${bindingProtected}.${bindingPayload}`)));
  return { protected: bindingProtected, payload: bindingPayload, signature: base64url(mac) };
}

/** One account: new-account, bound to an EAB key when there is an admin key to make one (not for Pebble). */
async function register(http, ctx, directory, label) {
  const keys = await subtle().generateKey(ecdsa, true, ['sign', 'verify']);
  const { kty, crv, x, y } = await subtle().exportKey('jwk', keys.publicKey);
  const jwk = { crv, kty, x, y };
  const url = directory.newAccount;
  const eab = ctx.adminKey ? { externalAccountBinding: await externalAccountBinding(http, ctx, label, jwk, url) } : {};
  const nonce = header(http.request('HEAD', directory.newNonce, null, { responseCallback: http.expectedStatuses(200) }), 'replay-nonce');
  const body = await jws(keys.privateKey, { jwk, nonce, url }, { termsOfServiceAgreed: true, ...eab });
  const res = http.post(url, body, { headers: { 'Content-Type': 'application/jose+json' }, responseCallback: http.expectedStatuses(201) });
  const kid = header(res, 'location');
  if (res.status !== 201 || !kid) throw new Error(`new-account answered ${res.status}: ${res.body}`);
  return { kid, key: keys.privateKey };
}

let prepared;

/**
 * This VU's ctx.acme, made on its first iteration: one account and its share of the scenario's
 * CSR pool (csrs / accounts; names unique to the VU and run), reused round-robin as the Node
 * driver reuses its pools.
 */
export async function k6AcmeContext(http, ctx, options, vu) {
  if (prepared) return prepared;
  // -e ACME_DIRECTORY=/dir for Pebble.
  const directory = http.get(`${ctx.baseUrl}${__ENV.ACME_DIRECTORY || '/acme/directory'}`, { responseCallback: http.expectedStatuses(200) }).json();
  const account = await register(http, ctx, directory, `vu ${vu} ${ctx.runId}`);
  const csrs = [];
  for (let i = 0; i < Math.max(1, Math.ceil(options.csrs / options.accounts)); i++) {
    const name = `k6-${vu}-${i}.${ctx.runId}.acme.test`;
    csrs.push({ name, csr: await makeCsr(name) });
  }
  const pathOf = (url) => url.replace(/^https?:\/\/[^/]+/, '');
  const profiles = (directory.meta && directory.meta.profiles) || {};
  prepared = {
    directory: { newNonce: pathOf(directory.newNonce), newAccount: pathOf(directory.newAccount), newOrder: pathOf(directory.newOrder) },
    profile: options.profile !== undefined && profiles[options.profile] !== undefined ? options.profile : undefined,
    account: () => account,
    csr: (i) => csrs[i % csrs.length],
    // k6 serves no http-01 answers: challenge mode (validated orders) is the Node driver's
    // (--acme-mode challenge); k6 runs order under a trusting profile, or against Pebble.
    serveChallenge: () => undefined,
    /** A Promise of { request }: the request itself has a `then` callback, so it cannot be a Promise's value. */
    async post(acct, path, payload, nonce, expect, then) {
      const body = await jws(acct.key, { kid: acct.kid, nonce, url: `${ctx.baseUrl}${path}` }, payload);
      return { request: { method: 'POST', path, headers: { 'Content-Type': 'application/jose+json' }, body, expect, ...(then ? { then } : {}) } };
    },
  };
  return prepared;
}
