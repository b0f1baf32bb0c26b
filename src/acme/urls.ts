/**
 * The URLs the ACME server names (RFC 8555 7.1.1): every URL it emits, and the URL a JWS must
 * name, come from one origin: CERTFLEET_PUBLIC_URL when it is set (behind a proxy that
 * terminates TLS or rewrites the host), else the scheme this server listens with and the Host
 * the client sent. A client therefore gets back exactly the URLs it can reach (section 21,
 * items 2 and 3 of the certctl spec).
 */
import { AcmeProblems } from './problems.ts';

// A Host header as RFC 9110 allows it: a reg-name, IPv4 or [IPv6], and an optional port.
const hostHeader = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export class AcmeUrls {
  readonly #fixedOrigin: string | undefined;
  readonly #scheme: 'http' | 'https';

  constructor(options: { publicUrl: string | undefined; scheme: 'http' | 'https' }) {
    this.#fixedOrigin = options.publicUrl?.replace(/\/+$/, '');
    this.#scheme = options.scheme;
  }

  /** The origin (with any path prefix of CERTFLEET_PUBLIC_URL) every ACME URL starts with. */
  origin(host: string): string {
    if (this.#fixedOrigin) return this.#fixedOrigin;
    if (!hostHeader.test(host)) throw AcmeProblems.malformed('the request has no usable Host header');
    return `${this.#scheme}://${host.toLowerCase()}`;
  }

  /** The URL a request to `path` was sent to, as its JWS must name it (no query string). */
  request(origin: string, path: string): string {
    return `${origin}${path}`;
  }

  /**
   * Where the entry points live: `/acme` for the default profile, `/acme/{profile}` for one
   * profile (clients that cannot send `profile` in new-order choose it by directory URL).
   * Resources (accounts, orders, ...) have one URL whatever the directory they came from.
   */
  entry(origin: string, profile?: string): string {
    return profile ? `${origin}/acme/${encodeURIComponent(profile)}` : `${origin}/acme`;
  }

  directory(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/directory`;
  }
  newNonce(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/new-nonce`;
  }
  newAccount(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/new-account`;
  }
  newOrder(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/new-order`;
  }
  revokeCert(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/revoke-cert`;
  }
  keyChange(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/key-change`;
  }
  renewalInfo(origin: string, profile?: string): string {
    return `${this.entry(origin, profile)}/renewal-info`;
  }
  /** The account URL, which is also its kid. */
  account(origin: string, id: string): string {
    return `${origin}/acme/acct/${id}`;
  }
  accountOrders(origin: string, id: string): string {
    return `${origin}/acme/acct/${id}/orders`;
  }
  order(origin: string, id: string): string {
    return `${origin}/acme/order/${id}`;
  }
  finalize(origin: string, id: string): string {
    return `${origin}/acme/order/${id}/finalize`;
  }
  /** An order's certificate, named by the order (one certificate per order). */
  certificate(origin: string, orderId: string): string {
    return `${origin}/acme/cert/${orderId}`;
  }
  authorization(origin: string, id: string): string {
    return `${origin}/acme/authz/${id}`;
  }
  challenge(origin: string, id: string): string {
    return `${origin}/acme/chall/${id}`;
  }
}
