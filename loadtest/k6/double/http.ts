/**
 * Test double of k6/http. k6's http is synchronous and Node's is not, so request() records each
 * request (loadtest/k6/k6-scripts.test.ts replays the records against the real server), while
 * get() (used by setup()) really fetches, synchronously through curl, and returns status and
 * headers keyed the way k6 canonicalises them (Etag, Content-Type).
 */
import { execFileSync } from 'node:child_process';
export interface RecordedRequest {
  method: string;
  url: string;
  body: string | null;
  headers: Record<string, string>;
  expected: number[];
}

export const recorded: RecordedRequest[] = [];

function request(method: string, url: string, body: string | null | undefined, params: { headers?: Record<string, string>; responseCallback?: { expected: number[] } } = {}) {
  recorded.push({ method, url, body: body ?? null, headers: params.headers ?? {}, expected: params.responseCallback?.expected ?? [200] });
  return { status: 0 };
}

function get(url: string, params: { headers?: Record<string, string> } = {}) {
  const args = ['-s', '--max-time', '10', '-o', '/dev/null', '-D', '-', url];
  for (const [name, value] of Object.entries(params.headers ?? {})) args.push('-H', `${name}: ${value}`);
  const lines = execFileSync('curl', args, { encoding: 'utf8' }).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())] = line.slice(colon + 1).trim();
  }
  return { status: Number(lines[0]!.split(' ')[1]), headers };
}

export default {
  request,
  get,
  post: (url: string, body?: string | null, params?: Parameters<typeof request>[3]) => request('POST', url, body, params),
  expectedStatuses: (...expected: number[]) => ({ expected }),
};
