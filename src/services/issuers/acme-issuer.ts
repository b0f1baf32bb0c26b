/**
 * The ACME issuer (RFC 8555) over acme-client: certfleet as an ACME *client* of an external CA
 * (Let's Encrypt, a commercial ACME CA, step-ca, pebble in tests).
 *
 * One order per Signing job, driven by pollUntilIssued (growing jittered waits, max wait):
 *   pending    -> answer each pending authorization's http-01 challenge: the key authorization
 *                 is stored (every replica serves it at /.well-known/acme-challenge/{token}) and
 *                 the challenge accepted; the CA validates asynchronously
 *   ready      -> finalize with the agent's CSR (the private key never leaves its host)
 *   processing -> the CA is issuing
 *   valid      -> download the chain: done
 *   invalid    -> failed, with the CA's problem detail
 * Authorizations that are already valid (pre-validated names of a commercial account) need no
 * challenge. The order URL is saved before the first wait, so a job resumed after a crash polls
 * the same order. The account key (ECDSA P-256) is made once per issuer and stored encrypted.
 */
import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import acme from 'acme-client';
import type { AcmeChallengeRepository } from '../../db/acme-issuer-challenges.ts';
import type { Logger } from '../../observability/logger.ts';
import { pollUntilIssued, type PollCheck } from './async-poll.ts';
import type { ExternalIssueRequest, ExternalIssuer } from './connector.ts';
import { truncate } from '../../text.ts';

export interface AcmeIssuerConfig {
  directory_url: string;
  email?: string;
  ca_bundle_pem?: string;
  async_poll_initial_wait_ms?: number;
}

export interface AcmeIssuerOptions {
  /** The issuer's account key (PKCS#8 PEM), created on first use and the same on every replica. */
  accountKey: (issuerId: string, create: () => string) => Promise<string>;
  challenges: AcmeChallengeRepository;
  log: Logger;
}

/** Key authorizations outlive any sane validation; the rows are removed when the order ends. */
const challengeTtlSeconds = 3_600;

// acme-client sends every request through one shared axios instance. Per-issuer TLS trust (a
// private CA's roots) is applied by origin, so one issuer's bundle never widens another's trust.
const agentsByOrigin = new Map<string, https.Agent>();
acme.axios.interceptors.request.use((request) => {
  const agent = request.url ? agentsByOrigin.get(new URL(request.url).origin) : undefined;
  if (agent) request.httpsAgent = agent;
  return request;
});

export function newAccountKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export class AcmeIssuer implements ExternalIssuer {
  readonly #o: AcmeIssuerOptions;
  /** One client (account registered) per issuer and directory. */
  readonly #clients = new Map<string, Promise<acme.Client>>();

  constructor(options: AcmeIssuerOptions) {
    this.#o = options;
  }

  async issue(req: ExternalIssueRequest) {
    const config = req.config as unknown as AcmeIssuerConfig;
    const client = await this.#client(req.issuerId, config);
    let order: acme.Order = req.ref
      ? await client.getOrder({ url: req.ref } as acme.Order)
      : await client.createOrder({ identifiers: req.names.map((value) => ({ type: isIP(value) ? 'ip' : 'dns', value })) });
    if (!req.ref) await req.saveRef(order.url);
    const tokens: string[] = [];
    try {
      return await pollUntilIssued(
        async (): Promise<PollCheck<string>> => {
          order = await client.getOrder(order);
          switch (order.status) {
            case 'pending':
              await this.#answerChallenges(client, order, tokens);
              return { state: 'pending', detail: 'authorizations pending' };
            case 'ready':
              order = await client.finalizeOrder(order, req.csrPem);
              if (order.status === 'valid') return { state: 'done', value: await client.getCertificate(order) };
              return { state: 'pending', detail: `finalized: ${order.status}` };
            case 'processing':
              return { state: 'pending', detail: 'the CA is issuing' };
            case 'valid':
              return { state: 'done', value: await client.getCertificate(order) };
            default:
              return { state: 'failed', reason: `ACME order ${order.status}: ${await this.#problem(client, order)}` };
          }
        },
        { ...req.poll, ...(config.async_poll_initial_wait_ms ? { initialWaitMs: config.async_poll_initial_wait_ms } : {}) },
      );
    } finally {
      await this.#o.challenges.remove(tokens).catch((err: unknown) => this.#o.log.warn({ err }, 'could not remove ACME challenge responses'));
    }
  }

  async #answerChallenges(client: acme.Client, order: acme.Order, tokens: string[]): Promise<void> {
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status !== 'pending') continue;
      const challenge = authz.challenges.find((c) => c.type === 'http-01');
      if (!challenge)
        throw new Error(`the CA offers no http-01 challenge for ${authz.identifier.value} (offered: ${authz.challenges.map((c) => c.type).join(', ')})`);
      if (challenge.status !== 'pending') continue; // accepted earlier: the CA is validating
      await this.#o.challenges.put(challenge.token, await client.getChallengeKeyAuthorization(challenge), challengeTtlSeconds);
      tokens.push(challenge.token);
      await client.completeChallenge(challenge);
    }
  }

  /** The CA's reason for an invalid order: the first failed challenge's error, if any. */
  async #problem(client: acme.Client, order: acme.Order): Promise<string> {
    try {
      for (const authz of await client.getAuthorizations(order)) {
        const failed = authz.challenges.find((c) => c.error);
        if (failed?.error) return `${authz.identifier.value}: ${truncate(JSON.stringify(failed.error), 300)}`;
      }
    } catch {
      // the order's own status is answer enough
    }
    return 'no detail from the CA';
  }

  #client(issuerId: string, config: AcmeIssuerConfig): Promise<acme.Client> {
    const key = `${issuerId} ${config.directory_url} ${config.ca_bundle_pem ?? ''}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = (async () => {
        if (config.ca_bundle_pem) {
          agentsByOrigin.set(new URL(config.directory_url).origin, new https.Agent({ keepAlive: true, ca: [...tls.rootCertificates, config.ca_bundle_pem] }));
        }
        const accountKey = await this.#o.accountKey(issuerId, newAccountKeyPem);
        const c = new acme.Client({ directoryUrl: config.directory_url, accountKey });
        await c.createAccount({ termsOfServiceAgreed: true, ...(config.email ? { contact: [`mailto:${config.email}`] } : {}) });
        return c;
      })();
      client.catch(() => this.#clients.delete(key)); // a failed registration is retried next time
      this.#clients.set(key, client);
    }
    return client;
  }
}
