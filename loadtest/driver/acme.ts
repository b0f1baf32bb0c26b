/**
 * ACME for the load driver (acme_flow): accounts made before the run (each bound with an EAB key
 * the admin API creates, as a trusting profile requires), JWS signed with node:crypto on
 * pre-parsed P-256 keys (synchronous, ~50 us), and a pool of pre-made CSRs, so the driver is not
 * the bottleneck. Scenario flows reach it as ctx.acme.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { buildCsr } from '../../src/pki/csr-builder.ts';
import type { ScenarioRequest } from './scenario.ts';

export interface AcmeAccount {
  kid: string;
  key: KeyObject;
}

export interface AcmeLoadContext {
  /** The account flow `i` uses (flows share accounts round-robin). */
  account(i: number): AcmeAccount;
  /** Pool entry `i`: a name and a CSR for it (base64url DER), made with its own P-256 key. */
  csr(i: number): { name: string; csr: string };
  /** A POST signed by `account` (kid) with `nonce`; payload '' is POST-as-GET. */
  post(account: AcmeAccount, path: string, payload: unknown, nonce: string, expect: number, then?: ScenarioRequest['then']): ScenarioRequest;
}

const b64u = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function jws(key: KeyObject, header: Record<string, unknown>, payload: string): string {
  const protectedB64 = b64u(JSON.stringify({ alg: 'ES256', ...header }));
  const payloadB64 = b64u(payload);
  const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key, dsaEncoding: 'ieee-p1363' });
  return JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64u(signature) });
}

async function nonce(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/acme/new-nonce`, { method: 'HEAD' });
  return res.headers.get('replay-nonce') ?? '';
}

/** One account: an EAB key from the admin API, then new-account bound with it. */
async function createAccount(baseUrl: string, adminKey: string, index: number): Promise<AcmeAccount> {
  const eabRes = await fetch(`${baseUrl}/api/v1/acme/eab-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `load account ${index}` }),
  });
  if (eabRes.status !== 201) throw new Error(`creating an EAB key answered ${eabRes.status}: ${await eabRes.text()}`);
  const eab = (await eabRes.json()) as { id: string; hmac_key: string };
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const url = `${baseUrl}/acme/new-account`;
  const bindingProtected = b64u(JSON.stringify({ alg: 'HS256', kid: eab.id, url }));
  const bindingPayload = b64u(JSON.stringify(jwk));
  const mac = createHmac('sha256', Buffer.from(eab.hmac_key, 'base64url')).update(`${bindingProtected}.${bindingPayload}`).digest();
  const binding = { protected: bindingProtected, payload: bindingPayload, signature: b64u(mac) };
  const payload = JSON.stringify({ termsOfServiceAgreed: true, externalAccountBinding: binding });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/jose+json' },
    body: jws(privateKey, { jwk, nonce: await nonce(baseUrl), url }, payload),
  });
  const kid = res.headers.get('location');
  if (res.status !== 201 || !kid) throw new Error(`new-account answered ${res.status}: ${await res.text()}`);
  return { kid, key: privateKey };
}

export async function createAcmeLoadContext(
  baseUrl: string,
  adminKey: string,
  options: { accounts: number; csrs: number; runId: string },
): Promise<AcmeLoadContext> {
  const accounts: AcmeAccount[] = [];
  for (let i = 0; i < options.accounts; i += 8) {
    accounts.push(...(await Promise.all(Array.from({ length: Math.min(8, options.accounts - i) }, (_, k) => createAccount(baseUrl, adminKey, i + k)))));
  }
  const csrs = Array.from({ length: options.csrs }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const name = `flow-${i}.${options.runId}.acme.test`;
    const pem = buildCsr(privateKey, publicKey, name, [name]);
    return { name, csr: Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64').toString('base64url') };
  });
  return {
    account: (i) => accounts[i % accounts.length]!,
    csr: (i) => csrs[i % csrs.length]!,
    post(account, path, payload, nonceValue, expect, then) {
      const body = jws(account.key, { kid: account.kid, nonce: nonceValue, url: `${baseUrl}${path}` }, payload === '' ? '' : JSON.stringify(payload));
      return { method: 'POST', path, headers: { 'Content-Type': 'application/jose+json' }, body, expect, ...(then ? { then } : {}) };
    },
  };
}
