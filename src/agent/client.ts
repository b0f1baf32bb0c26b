/** The agent's HTTP client for the certfleet API. 410 (retired) surfaces as AgentGone. */
import type { DeploymentReport } from './connectors/deploy.ts';
import type { ScanResult } from './discovery-scan.ts';
import { request } from './http.ts';

export class AgentGone extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Work {
  csr: Array<{ job_id: string; certificate_id: string; common_name: string; sans: string[]; allowed_key_algorithms: Array<{ algorithm: string }> | null }>;
  deployments: Array<{ job_id: string; certificate_id: string; target_id: string; target_type: string; target_config: Record<string, unknown> }>;
}

export class AgentClient {
  constructor(
    private readonly server: string,
    private readonly credentials: { agentId: string; apiKey: string } | undefined,
  ) {}

  static async register(server: string, bootstrapToken: string, body: Record<string, string>): Promise<{ id: string; api_key: string }> {
    const res = await request(`${server}/api/v1/agents`, { method: 'POST', headers: { authorization: `Bearer ${bootstrapToken}` }, body, timeoutMs: 30_000 });
    if (res.status !== 201) throw new ApiError(res.status, `registration failed (${res.status}): ${res.text}`);
    return JSON.parse(res.text) as { id: string; api_key: string };
  }

  async #call<T>(method: string, path: string, body?: unknown, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    const { agentId, apiKey } = this.credentials!;
    const res = await request(`${this.server}/api/v1/agents/${agentId}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}` },
      body,
      // A poll that may wait is given its wait on top of the usual allowance.
      timeoutMs: 30_000 + (options.waitMs ?? 0),
      signal: options.signal,
    });
    if (res.status === 410) throw new AgentGone(`agent ${agentId} is retired`);
    if (res.status < 200 || res.status > 299) throw new ApiError(res.status, `${method} ${path}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as T;
  }

  heartbeat(metadata: Record<string, string>) {
    return this.#call<{ status: string }>('POST', '/heartbeat', metadata);
  }
  /**
   * The agent's work. `waitSeconds`: when there is none, the server holds the poll until some is
   * created or the wait runs out. `heartbeat`: the poll counts as a heartbeat (`heartbeat:
   * 'recorded'` in the answer says the server did; one that predates it ignores the flag).
   * `signal` abandons the request (a stopping agent does not sit out a waiting poll).
   */
  work(options: { waitSeconds?: number; heartbeat?: boolean; signal?: AbortSignal } = {}) {
    const query = new URLSearchParams();
    if (options.waitSeconds) query.set('wait', String(options.waitSeconds));
    if (options.heartbeat) query.set('heartbeat', 'true');
    const search = query.size > 0 ? `?${query}` : '';
    return this.#call<Work & { heartbeat?: 'recorded' }>('GET', `/work${search}`, undefined, {
      waitMs: (options.waitSeconds ?? 0) * 1000,
      signal: options.signal,
    });
  }
  /** Local CA: issued at once (201). External CA: `status: 'issuing'` (202); deployment work follows. */
  submitCsr(certificateId: string, csrPem: string) {
    return this.#call<{ serial_number?: string; deployments?: number; status?: string; job_id?: string }>('POST', '/csr', {
      certificate_id: certificateId,
      csr_pem: csrPem,
    });
  }
  certificate(certificateId: string) {
    return this.#call<{ certificate_pem: string }>('GET', `/certificates/${encodeURIComponent(certificateId)}`);
  }
  reportDiscovery(report: ScanResult) {
    return this.#call<{ id: string; certificates_found: number; certificates_new: number }>('POST', '/discoveries', report);
  }
  /** A deployment's outcome, with the connector's report of what it did. */
  report(jobId: string, status: 'Completed' | 'Failed', error?: string, report?: DeploymentReport) {
    return this.#call<{ status: string }>('POST', `/jobs/${encodeURIComponent(jobId)}/status`, {
      status,
      ...(error ? { error: error.slice(0, 4000) } : {}),
      ...(report ? { report } : {}),
    });
  }
}
