/**
 * ACME for the load driver (acme_flow): the server's directory read once, accounts made before
 * the run (each bound with an EAB key the admin API creates, as certfleet's trusting profile
 * requires; plain ones where there is no admin key: Pebble), JWS signed with node:crypto on
 * pre-parsed P-256 keys (synchronous, ~50 us), and a pool of pre-made CSRs, so the driver is not
 * the bottleneck. Scenario flows reach it as ctx.acme.
 */
import { createHash, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { buildCsr } from '../../src/pki/csr-builder.ts';
import type { ChallengeResponder } from './challenge-responder.ts';
import type { ScenarioRequest } from './scenario.ts';
import { environmentSchema } from '../../src/config/schema.ts';

export interface AcmeAccount {
  kid: string;
  key: KeyObject;
  /** RFC 7638 thumbprint of its public key: the second half of its key authorizations. */
  thumbprint: string;
}

export interface AcmeLoadContext {
  /** The directory's resources as paths on the server (certfleet's /acme/new-order, Pebble's /order-plz). */
  directory: { newNonce: string; newAccount: string; newOrder: string };
  /** The scenario's profile when the directory offers it (certfleet), else undefined (Pebble has none). */
  profile: string | undefined;
  /** The account flow `i` uses (flows share accounts round-robin). */
  account(i: number): AcmeAccount;
  /** Pool entry `i`: a name and a CSR for it (base64url DER), made with its own P-256 key. */
  csr(i: number): { name: string; csr: string };
  /**
   * Before answering an http-01 challenge: has the driver's responder serve its key authorization
   * (`--acme-mode challenge`); nothing otherwise (trust mode, or Pebble, whose VA says valid).
   */
  serveChallenge(account: AcmeAccount, token: string): void;
  /** A POST signed by `account` (kid) with `nonce`; payload '' is POST-as-GET. */
  post(account: AcmeAccount, path: string, payload: unknown, nonce: string, expect: number, then?: ScenarioRequest['then']): ScenarioRequest;
}

/** The server's default new orders per account per hour, read from its own configuration schema. */
export const defaultNewOrdersPerHour: number = environmentSchema.shape.CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR.parse(undefined);

/**
 * Accounts for a run of `flows` ACME flows (round-robin): at least the scenario's, and enough
 * that none places more than five sixths of the server's new-order limit per account
 * (`newOrdersPerHour`; 0: no limit): a long or fast run must measure the server, not its rate
 * limit (acme_flow as defined, 500/s for 65 s, is 32,500 orders: 130 accounts at the default).
 */
export function acmeAccountsFor(scenarioAccounts: number, flows: number, newOrdersPerHour = defaultNewOrdersPerHour): number {
  if (newOrdersPerHour <= 0) return scenarioAccounts;
  return Math.max(scenarioAccounts, Math.ceil(flows / Math.max(1, Math.floor((newOrdersPerHour * 5) / 6))));
}

const b64u = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function jws(key: KeyObject, header: Record<string, unknown>, payload: string): string {
  const protectedB64 = b64u(JSON.stringify({ alg: 'ES256', ...header }));
  const payloadB64 = b64u(payload);
  const signature = sign('sha256', Buffer.from(`${protectedB64}.${payloadB64}`), { key, dsaEncoding: 'ieee-p1363' });
  return JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64u(signature) });
}

interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  meta?: { profiles?: Record<string, string> };
}

async function readDirectory(baseUrl: string, directoryPath: string): Promise<Directory> {
  const res = await fetch(`${baseUrl}${directoryPath}`);
  if (!res.ok) throw new Error(`GET ${directoryPath} answered ${res.status}`);
  return (await res.json()) as Directory;
}

async function nonce(directory: Directory): Promise<string> {
  const res = await fetch(directory.newNonce, { method: 'HEAD' });
  return res.headers.get('replay-nonce') ?? '';
}

/** An EAB binding (RFC 8555 7.3.4) with a key the admin API creates. */
async function externalAccountBinding(baseUrl: string, adminKey: string, index: number, jwk: JsonWebKey, url: string) {
  const eabRes = await fetch(`${baseUrl}/api/v1/acme/eab-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `load account ${index}` }),
  });
  if (eabRes.status !== 201) throw new Error(`creating an EAB key answered ${eabRes.status}: ${await eabRes.text()}`);
  const eab = (await eabRes.json()) as { id: string; hmac_key: string };
  const bindingProtected = b64u(JSON.stringify({ alg: 'HS256', kid: eab.id, url }));
  const bindingPayload = b64u(JSON.stringify(jwk));
  const mac = createHmac('sha256', Buffer.from(eab.hmac_key, 'base64url')).update(`${bindingProtected}.${bindingPayload}`).digest();
  return { protected: bindingProtected, payload: bindingPayload, signature: b64u(mac) };
}

/** One account: new-account, bound to an EAB key when there is an admin key to make one. */
async function createAccount(baseUrl: string, adminKey: string, directory: Directory, index: number): Promise<AcmeAccount> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const url = directory.newAccount;
  const payload = JSON.stringify({
    termsOfServiceAgreed: true,
    ...(adminKey ? { externalAccountBinding: await externalAccountBinding(baseUrl, adminKey, index, jwk, url) } : {}),
  });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/jose+json' },
    body: jws(privateKey, { jwk, nonce: await nonce(directory), url }, payload),
  });
  const kid = res.headers.get('location');
  if (res.status !== 201 || !kid) throw new Error(`new-account answered ${res.status}: ${await res.text()}`);
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
  return { kid, key: privateKey, thumbprint };
}

export async function createAcmeLoadContext(
  baseUrl: string,
  adminKey: string,
  options: {
    accounts: number;
    csrs: number;
    runId: string;
    directoryPath: string;
    profile?: string;
    /** Serves http-01 answers (`--acme-mode challenge`, challenge-responder.ts). */
    responder?: Pick<ChallengeResponder, 'provide'>;
  },
): Promise<AcmeLoadContext> {
  const directory = await readDirectory(baseUrl, options.directoryPath);
  const accounts: AcmeAccount[] = [];
  for (let i = 0; i < options.accounts; i += 8) {
    accounts.push(
      ...(await Promise.all(Array.from({ length: Math.min(8, options.accounts - i) }, (_, k) => createAccount(baseUrl, adminKey, directory, i + k)))),
    );
  }
  const csrs = Array.from({ length: options.csrs }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const name = `flow-${i}.${options.runId}.acme.test`;
    const pem = buildCsr(privateKey, publicKey, name, [name]);
    return { name, csr: Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64').toString('base64url') };
  });
  const pathOf = (url: string) => new URL(url).pathname;
  return {
    directory: { newNonce: pathOf(directory.newNonce), newAccount: pathOf(directory.newAccount), newOrder: pathOf(directory.newOrder) },
    profile: options.profile !== undefined && directory.meta?.profiles?.[options.profile] !== undefined ? options.profile : undefined,
    account: (i) => accounts[i % accounts.length]!,
    csr: (i) => csrs[i % csrs.length]!,
    serveChallenge: (account, token) => options.responder?.provide(token, `${token}.${account.thumbprint}`),
    post(account, path, payload, nonceValue, expect, then) {
      const body = jws(account.key, { kid: account.kid, nonce: nonceValue, url: `${baseUrl}${path}` }, payload === '' ? '' : JSON.stringify(payload));
      return { method: 'POST', path, headers: { 'Content-Type': 'application/jose+json' }, body, expect, ...(then ? { then } : {}) };
    },
  };
}
