/**
 * The agent's HTTP requests, on node:http and node:https with one keep-alive connection pool.
 * Not fetch: loading undici costs a process about 12 MB of RSS (empty Node 39 MB, after one
 * fetch 51 MB, this machine), and the agent runs on every host of a fleet.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';

export interface HttpAnswer {
  status: number;
  text: string;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 4 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 4 }),
};

/** Trusts `caPem` (a private CA, PEM) for https servers, in addition to the system's roots. */
export function trustCa(caPem: string): void {
  agents['https:'] = new https.Agent({ keepAlive: true, maxSockets: 4, ca: [...tls.rootCertificates, caPem] });
}

const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why a request never got an answer, in one line an operator can act on. */
export function describeNetworkError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number };
  const where = e.address ? ` (${e.address}${e.port ? `:${e.port}` : ''})` : e.hostname ? ` (${e.hostname})` : '';
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused${where}: is the server running and listening there?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS: cannot resolve${where}`;
    case 'ECONNRESET':
      return `connection reset${where}`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route or no answer${where}`;
  }
  if (e.code && tlsCodes.has(e.code))
    return `TLS: ${e.code}: the server's certificate is not trusted here (a private CA: --ca-file or CERTFLEET_AGENT_CA_FILE)`;
  return e.message || String(err);
}

/** One request with a JSON body (or none); resolves with the status and the body as text. */
export function request(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: unknown; timeoutMs: number; signal?: AbortSignal },
): Promise<HttpAnswer> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = agents[target.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new Error(`unsupported scheme in ${url}`));
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string | number> = { ...options.headers };
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise((resolve, reject) => {
    const req = transport.request(target, { method: options.method, headers, agent, timeout: options.timeoutMs, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${target.pathname}: no answer within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
