/**
 * Test double of k6/http: requests really go to the server, synchronously like k6's, through
 * curl (the server under test must run in another process). Each request is recorded with the
 * statuses the script declared as expected, for loadtest/k6/k6-scripts.test.ts to check.
 * Response headers are keyed the way k6 canonicalises them (Etag, Content-Type).
 */
import { execFileSync } from 'node:child_process';

export interface RecordedRequest {
  method: string;
  url: string;
  status: number;
  body: string;
  expected: number[];
}

export const recorded: RecordedRequest[] = [];

interface Params {
  headers?: Record<string, string>;
  responseCallback?: { expected: number[] };
}

const canonical = (name: string) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

function request(method: string, url: string, body: string | null | undefined, params: Params = {}) {
  // -k: the handshake scripts reach daemons serving a certfleet-issued chain with insecureSkipTLSVerify.
  const args = ['-s', '--max-time', '10', ...(url.startsWith('https:') ? ['-k'] : []), '-X', method, '-D', '-', url];
  const started = performance.now();
  for (const [name, value] of Object.entries(params.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (body) args.push('--data-binary', body);
  const raw = execFileSync('curl', args, { encoding: 'utf8' });
  // k6 splits a request's time into phases; the double has only the whole (in `duration`).
  const timings = { connecting: 0, tls_handshaking: 0, duration: performance.now() - started };
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).split('\r\n');
  const responseBody = raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[canonical(line.slice(0, colon))] = line.slice(colon + 1).trim();
  }
  const status = Number(head[0]!.split(' ')[1]);
  recorded.push({ method, url, status, body: responseBody, expected: params.responseCallback?.expected ?? [200] });
  return { status, headers, body: responseBody, timings, json: () => JSON.parse(responseBody) as unknown };
}

export default {
  request,
  get: (url: string, params?: Params) => request('GET', url, null, params),
  post: (url: string, body?: string | null, params?: Params) => request('POST', url, body, params),
  expectedStatuses: (...expected: number[]) => ({ expected }),
};
