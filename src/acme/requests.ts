/**
 * Authenticating an ACME POST (RFC 8555 6.2-6.5), in the order that decides which error a client
 * sees: the JWS parses -> its url is the URL the request was sent to -> its nonce is spent (once,
 * whatever happens next) -> kid or jwk as the endpoint requires -> the key (an account's, from a
 * cache of parsed KeyObjects, or the embedded jwk) -> the signature.
 */
import type { KeyObject } from 'node:crypto';
import type { AcmeAccountRow } from '../domain/acme.ts';
import type { WorkerPool } from '../workers/pool.ts';
import { algorithmFitsKey, importJwk, parseJsonObject, parseJws, signatureAlgorithms, verifyJws, type Jwk, type ParsedJws } from './jws.ts';
import type { NonceService } from './nonces.ts';
import { AcmeProblem, AcmeProblems } from './problems.ts';
import { RecentEntries } from './recent-entries.ts';

/** What a verified request carries: the payload ('' for POST-as-GET) and who signed it. */
export interface VerifiedRequest {
  jws: ParsedJws;
  payload: string;
  key: KeyObject;
  /** kid requests: the account (status valid). */
  account?: AcmeAccountRow;
  /** jwk requests: the embedded key as sent. */
  jwk?: Jwk;
}

/** `kid`: an existing account signs; `jwk`: a key signs itself (new-account); `either`: revoke-cert. */
export type SignerRule = 'kid' | 'jwk' | 'either';

/**
 * Verifies a signature elsewhere (the worker pool). Used for the keys whose verification costs
 * far more than a handoff (bench/acme/jws-verify.bench.ts: P-256 66 us, P-384 630 us, P-521
 * 1.3 ms, RSA-8192 290 us, Ed448 about 270 us; a pool handoff about 50-100 us): a burst of them
 * must not stall the event loop.
 */
export type RemoteVerify = (jws: ParsedJws, jwk: Jwk) => Promise<void>;
const offloaded = new Set(['ES384', 'ES512']);
const largestInlineRsaBits = 4096;

/** Whether a signature by `key` is checked on the pool rather than on the event loop. */
export function verifiesSlowly(alg: string, key: KeyObject): boolean {
  if (offloaded.has(alg) || key.asymmetricKeyType === 'ed448') return true;
  return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) > largestInlineRsaBits;
}

export interface AccountLookup {
  accountById(id: string): Promise<AcmeAccountRow | undefined>;
}

/** Parsed account keys by account id and thumbprint: a JWK is parsed once, not per request. */
class AccountKeyCache {
  readonly #keys: RecentEntries<KeyObject>;
  constructor(max: number) {
    this.#keys = new RecentEntries(max);
  }

  get(account: AcmeAccountRow): KeyObject {
    const cacheKey = `${account.id}\n${account.key_thumbprint}`;
    let key = this.#keys.get(cacheKey);
    if (!key) {
      key = importJwk(account.jwk);
      this.#keys.set(cacheKey, key);
    }
    return key;
  }
}

export class AcmeRequestVerifier {
  readonly #nonces: NonceService;
  readonly #accounts: AccountLookup;
  readonly #keys = new AccountKeyCache(100_000);
  /** `${base}/acct/` for a base; kids are account URLs under the request's base. */
  readonly #accountUrl: (base: string, id: string) => string;

  readonly #remote: RemoteVerify | undefined;

  constructor(options: { nonces: NonceService; accounts: AccountLookup; accountUrl: (base: string, id: string) => string; remoteVerify?: RemoteVerify }) {
    this.#nonces = options.nonces;
    this.#remote = options.remoteVerify;
    this.#accounts = options.accounts;
    this.#accountUrl = options.accountUrl;
  }

  /** `url`: the full URL this request was sent to, as the server names it (RFC 8555 6.4). */
  async verify(body: unknown, url: string, base: string, rule: SignerRule): Promise<VerifiedRequest> {
    const jws = parseJws(body);
    if (jws.header.url !== url) throw AcmeProblems.unauthorized(`the JWS url ${JSON.stringify(jws.header.url)} is not the request URL ${url}`);
    await this.#nonces.redeem(jws.header.nonce);
    const { kid, jwk } = jws.header;
    if (kid === undefined && jwk === undefined) throw AcmeProblems.malformed('the protected header must carry kid or jwk');
    if (rule === 'kid' && kid === undefined) throw AcmeProblems.malformed('this request must be signed by an account key (kid), not an embedded jwk');
    if (rule === 'jwk' && jwk === undefined) throw AcmeProblems.malformed('this request must carry the key it is signed with (jwk), not a kid');
    if (kid !== undefined) {
      const account = await this.#account(kid, base);
      const key = this.#keys.get(account);
      await this.#verify(jws, key, account.jwk);
      return { jws, payload: jws.payload, key, account };
    }
    const key = importJwk(jwk!);
    await this.#verify(jws, key, jwk!);
    return { jws, payload: jws.payload, key, jwk: jwk! };
  }

  #verify(jws: ParsedJws, key: KeyObject, jwk: Jwk): Promise<void> | void {
    if (this.#remote && verifiesSlowly(jws.header.alg, key) && algorithmFitsKey(jws.header.alg, key)) return this.#remote(jws, jwk);
    verifyJws(jws, key);
  }

  async #account(kid: string, base: string): Promise<AcmeAccountRow> {
    const prefix = this.#accountUrl(base, '');
    const id = kid.startsWith(prefix) ? kid.slice(prefix.length) : '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw AcmeProblems.accountDoesNotExist(`kid ${JSON.stringify(kid)} is not an account URL of this server`);
    const account = await this.#accounts.accountById(id);
    if (!account) throw AcmeProblems.accountDoesNotExist(`account ${id} does not exist`);
    if (account.status !== 'valid') throw AcmeProblems.unauthorized(`account ${id} is ${account.status}`);
    return account;
  }
}

/** The payload as a JSON object; undefined for POST-as-GET (empty payload). */
export function payloadObject(request: VerifiedRequest): Record<string, unknown> | undefined {
  return request.payload === '' ? undefined : parseJsonObject(request.payload, 'payload');
}

/** RemoteVerify on the worker pool (app.ts); a pool that is full answers 503 as everywhere. */
export function poolVerifier(pool: Pick<WorkerPool, 'run'>): RemoteVerify {
  return async (jws, jwk) => {
    const result = await pool.run('verifyJws', { header: jws.header, signingInput: jws.signingInput, signature: jws.signature, jwk });
    if (result.ok) return;
    throw new AcmeProblem(result.type, 400, result.detail, result.type === 'badSignatureAlgorithm' ? { algorithms: signatureAlgorithms } : {});
  };
}
