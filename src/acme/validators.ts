/**
 * Challenge validation (RFC 8555 8.3 http-01, 8.4 dns-01; RFC 8737 tls-alpn-01): each validator
 * resolves to nothing when the client proved control of the name, or throws an AcmeProblem
 * saying what was seen. They connect to the addresses they resolved themselves (never
 * re-resolving by name), skip addresses no CA should reach (loopback unless allowed,
 * link-local, multicast, unspecified), and give up when `signal` aborts.
 */
import { createHash, X509Certificate } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { AcmeChallengeType } from '../domain/acme.ts';
import { ipv6Bytes } from '../pki/certificate.ts';
import { children, content, decodeOid, read, Tag } from '../pki/der.ts';
import { canonicalIp } from './identifiers.ts';
import { AcmeProblem } from './problems.ts';

export interface ValidatorSettings {
  /** Port http-01 requests go to (80 in production; tests use a loopback port). */
  http01Port: number;
  /** Port tls-alpn-01 handshakes go to (443 in production). */
  tlsAlpn01Port: number;
  /** `host:port` of the DNS server asked for A/AAAA/TXT; unset: the system resolver. */
  dnsResolver: string | undefined;
  /** Validate against loopback addresses (tests, single-host labs). */
  allowLoopback: boolean;
}

export interface ValidationRequest {
  type: AcmeChallengeType;
  identifierType: 'dns' | 'ip';
  /** The identifier without any "*." (an IP address in canonical form for `ip`). */
  name: string;
  token: string;
  keyAuthorization: string;
  /** The account URL (kid): dns-account-01's record name is derived from it. */
  accountUrl: string;
}

/** The most of an http-01 response body read (RFC 8555 8.3 expects a few dozen bytes). */
const maxBody = 16 * 1024;
const maxRedirects = 10;
const acmeIdentifierOid = '1.3.6.1.5.5.7.1.31';

const fail = {
  dns: (detail: string) => new AcmeProblem('dns', 400, detail),
  connection: (detail: string) => new AcmeProblem('connection', 400, detail),
  tls: (detail: string) => new AcmeProblem('tls', 400, detail),
  incorrect: (detail: string) => new AcmeProblem('incorrectResponse', 403, detail),
};

export function keyAuthorizationDigest(keyAuthorization: string): Buffer {
  return createHash('sha256').update(keyAuthorization).digest();
}

export class ChallengeValidators {
  readonly #settings: ValidatorSettings;
  readonly #resolver: dns.promises.Resolver | undefined;
  readonly #blocked = new net.BlockList();

  constructor(settings: ValidatorSettings) {
    this.#settings = settings;
    if (settings.dnsResolver) {
      this.#resolver = new dns.promises.Resolver({ timeout: 3_000, tries: 2 });
      this.#resolver.setServers([settings.dnsResolver]);
    }
    this.#blocked.addSubnet('0.0.0.0', 8, 'ipv4');
    this.#blocked.addSubnet('169.254.0.0', 16, 'ipv4');
    this.#blocked.addSubnet('224.0.0.0', 4, 'ipv4');
    this.#blocked.addAddress('255.255.255.255', 'ipv4');
    this.#blocked.addAddress('::', 'ipv6');
    this.#blocked.addSubnet('fe80::', 10, 'ipv6');
    this.#blocked.addSubnet('ff00::', 8, 'ipv6');
    if (!settings.allowLoopback) {
      this.#blocked.addSubnet('127.0.0.0', 8, 'ipv4');
      this.#blocked.addAddress('::1', 'ipv6');
    }
  }

  validate(request: ValidationRequest, signal: AbortSignal): Promise<void> {
    switch (request.type) {
      case 'http-01':
        return this.#http01(request, signal);
      case 'dns-01':
        return this.#dns01(request, `_acme-challenge.${request.name}`);
      case 'dns-account-01':
        return this.#dns01(request, `${accountLabel(request.accountUrl)}._acme-challenge.${request.name}`);
      case 'tls-alpn-01':
        return this.#tlsAlpn01(request, signal);
    }
  }

  /** The addresses `name` resolves to that a validation may connect to; IPv4 first. */
  async addresses(name: string): Promise<string[]> {
    let found: string[];
    try {
      if (this.#resolver) {
        const settle = (p: Promise<string[]>) => p.catch(() => [] as string[]);
        const [v4, v6] = await Promise.all([settle(this.#resolver.resolve4(name)), settle(this.#resolver.resolve6(name))]);
        found = [...v4, ...v6];
      } else {
        found = (await dns.promises.lookup(name, { all: true, order: 'ipv4first' })).map((a) => a.address);
      }
    } catch (err) {
      throw fail.dns(`looking up ${name} failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (found.length === 0) throw fail.dns(`${name} has no A or AAAA record`);
    const usable = found.filter((ip) => !this.#blocked.check(ip, net.isIPv6(ip) ? 'ipv6' : 'ipv4'));
    if (usable.length === 0) throw fail.connection(`${name} resolves only to addresses a CA does not connect to (${found.slice(0, 4).join(', ')})`);
    return usable;
  }

  /** An IP identifier is its own address (if a CA may connect to it); a name is resolved. */
  async #target(host: string): Promise<string> {
    if (!net.isIP(host)) return (await this.addresses(host))[0]!;
    if (this.#blocked.check(host, net.isIPv6(host) ? 'ipv6' : 'ipv4')) throw fail.connection(`${host} is an address a CA does not connect to`);
    return host;
  }

  async #http01(request: ValidationRequest, signal: AbortSignal): Promise<void> {
    const port = this.#settings.http01Port;
    const host = net.isIPv6(request.name) ? `[${request.name}]` : request.name;
    let url = new URL(`http://${host}${port === 80 ? '' : `:${port}`}/.well-known/acme-challenge/${request.token}`);
    for (let hop = 0; ; hop++) {
      const address = await this.#target(url.hostname.replace(/^\[|\]$/g, ''));
      const response = await get(url, address!, signal);
      if (response.status >= 300 && response.status < 400 && response.location) {
        if (hop >= maxRedirects) throw fail.incorrect(`more than ${maxRedirects} redirects from ${request.name}`);
        const next = new URL(response.location, url);
        const allowedPort = next.protocol === 'http:' ? (next.port === '' ? 80 : Number(next.port)) === port : next.protocol === 'https:' && next.port === '';
        if (!allowedPort) throw fail.incorrect(`a redirect to ${next.protocol}//${next.host} is not followed (only http on port ${port} and https on 443)`);
        url = next;
        continue;
      }
      if (response.status !== 200) throw fail.incorrect(`${url.href} answered ${response.status}, not 200 with the key authorization`);
      const body = response.body.replace(/[\s]+$/, '');
      if (body !== request.keyAuthorization) {
        throw fail.incorrect(`${url.href} answered ${JSON.stringify(body.slice(0, 100))}, not the key authorization of this challenge`);
      }
      return;
    }
  }

  /** dns-01 and dns-account-01: a TXT record at `name` holding the key authorization's digest. */
  async #dns01(request: ValidationRequest, name: string): Promise<void> {
    const resolver = this.#resolver ?? dns.promises;
    let records: string[][];
    try {
      // A recursive resolver follows CNAMEs for us: a delegated _acme-challenge works.
      records = await resolver.resolveTxt(name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw fail.dns(
        code === 'ENODATA' || code === 'ENOTFOUND' ? `no TXT record at ${name}` : `looking up TXT ${name} failed: ${code ?? (err as Error).message}`,
      );
    }
    const expected = keyAuthorizationDigest(request.keyAuthorization).toString('base64url');
    if (!records.some((chunks) => chunks.join('') === expected)) {
      throw fail.incorrect(`none of the ${records.length} TXT records at ${name} is the digest of this challenge's key authorization`);
    }
  }

  async #tlsAlpn01(request: ValidationRequest, signal: AbortSignal): Promise<void> {
    const ip = request.identifierType === 'ip';
    const address = await this.#target(request.name);
    // RFC 8738 6: an IP identifier is named in SNI by its reverse-DNS name.
    const servername = ip ? reverseName(request.name) : request.name;
    const certificate = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = tls.connect({
        host: address,
        port: this.#settings.tlsAlpn01Port,
        servername,
        ALPNProtocols: ['acme-tls/1'],
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      });
      const abort = () => socket.destroy(fail.connection(`${request.name} did not complete a TLS handshake in time`));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', abort));
      socket.once('secureConnect', () => {
        const alpn = socket.alpnProtocol;
        const peer = socket.getPeerX509Certificate();
        socket.destroy();
        if (alpn !== 'acme-tls/1') reject(fail.tls(`${request.name} did not negotiate ALPN acme-tls/1 (got ${JSON.stringify(alpn || 'none')})`));
        else if (!peer) reject(fail.tls(`${request.name} sent no certificate`));
        else resolve(peer);
      });
      socket.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err instanceof AcmeProblem
            ? err
            : err.code?.startsWith('ERR_SSL')
              ? fail.tls(`TLS with ${request.name}: ${err.message}`)
              : fail.connection(`connecting to ${request.name}: ${err.code ?? err.message}`),
        ),
      );
    });
    const names = certificate.subjectAltName?.split(', ') ?? [];
    const named = ip
      ? names.length === 1 && names[0]!.startsWith('IP Address:') && canonicalIp(names[0]!.slice(11)) === request.name
      : names.length === 1 && names[0] === `DNS:${request.name}`;
    if (!named) {
      throw fail.incorrect(
        `the acme-tls/1 certificate must name exactly ${ip ? 'IP Address' : 'DNS'}:${request.name} (it has ${certificate.subjectAltName ?? 'no subjectAltName'})`,
      );
    }
    const extension = findExtension(certificate.raw, acmeIdentifierOid);
    if (!extension) throw fail.incorrect('the acme-tls/1 certificate has no acmeIdentifier extension');
    if (!extension.critical) throw fail.incorrect('the acmeIdentifier extension must be critical');
    const expected = Buffer.concat([Buffer.from([Tag.OCTET_STRING, 32]), keyAuthorizationDigest(request.keyAuthorization)]);
    if (!extension.value.equals(expected)) throw fail.incorrect("the acmeIdentifier extension is not the digest of this challenge's key authorization");
  }
}

/** One GET to `address` for `url` (Host and SNI from the URL), body capped at maxBody. */
function get(url: URL, address: string, signal: AbortSignal): Promise<{ status: number; location?: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const options = {
      host: address,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: { Host: url.host, 'User-Agent': 'certfleet-acme-validator', Accept: '*/*', Connection: 'close' },
      agent: false as const,
      signal,
      ...(secure ? { servername: url.hostname, rejectUnauthorized: false } : {}),
    };
    const req = (secure ? https : http).get(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBody) {
          res.destroy();
          reject(fail.incorrect(`${url.href} answered more than ${maxBody} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(fail.connection(`reading ${url.href}: ${err.message}`)));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal.aborted) reject(fail.connection(`${url.href} did not answer in time`));
      else reject(fail.connection(`connecting to ${url.host} (${address}): ${err.code ?? err.message}`));
    });
  });
}

/** An extension of a DER certificate by OID: whether it is critical and its extnValue contents. */
function findExtension(der: Buffer, wanted: string): { critical: boolean; value: Buffer } | undefined {
  const certificate = read(der, 0);
  const tbs = children(der, certificate)[0]!;
  const extensions = children(der, tbs).find((n) => n.tag === 0xa3);
  if (!extensions) return undefined;
  for (const extension of children(der, children(der, extensions)[0]!)) {
    const [id, ...rest] = children(der, extension);
    if (!id || decodeOid(content(der, id)) !== wanted) continue;
    const critical = rest.length === 2 && rest[0]!.tag === Tag.BOOLEAN && der[rest[0]!.contentStart] !== 0;
    return { critical, value: content(der, rest[rest.length - 1]!) };
  }
  return undefined;
}

/** The reverse-DNS name of an address: 4.3.2.1.in-addr.arpa, or nibbles under ip6.arpa. */
export function reverseName(ip: string): string {
  if (net.isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${[...ipv6Bytes(ip).toString('hex')].reverse().join('.')}.ip6.arpa`;
}

/**
 * dns-account-01's label (draft-ietf-acme-dns-account-label-01): "_" and the lowercase base32
 * (RFC 4648) of the first 10 bytes of SHA-256(account URL), so each account has its own record
 * and several accounts (clusters, CDNs) can validate one name at once.
 */
export function accountLabel(accountUrl: string): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = createHash('sha256').update(accountUrl).digest().subarray(0, 10);
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  let label = '_';
  for (let i = 0; i < bits.length; i += 5) label += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return label;
}
