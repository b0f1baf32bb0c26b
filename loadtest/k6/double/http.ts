/**
 * Test double of k6/http: records each request instead of sending it (k6's http is synchronous,
 * Node's is not); loadtest/k6/k6-scripts.test.ts replays the records against the real server.
 */
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

export default {
  request,
  get: (url: string, params?: Parameters<typeof request>[3]) => request('GET', url, null, params),
  post: (url: string, body?: string | null, params?: Parameters<typeof request>[3]) => request('POST', url, body, params),
  expectedStatuses: (...expected: number[]) => ({ expected }),
};
