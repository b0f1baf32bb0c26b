/**
 * The agent work protocol: poll for work, submit a CSR for a certificate it serves (issued by
 * the same path as REST and ACME; deployment jobs fan out to every mapped target), fetch the
 * PEM chain, report a deployment's outcome. Every call is for the calling agent only; a retired
 * agent gets 410.
 */
import type { AgentWorkRepository, CsrWork, DeploymentOutcome, DeploymentWork } from '../../db/agent-work.ts';
import type { JobRow } from '../../domain/jobs.ts';
import { Errors } from '../../errors.ts';
import type { AuditWriter } from '../audit/writer.ts';
import type { Principal } from '../auth/permissions.ts';
import type { QueuedIssuance } from '../pki/external-issuance.ts';
import { isQueued, type IssuanceService, type IssuedCertificate } from '../pki/issuance.ts';
import { truncate } from '../../text.ts';
import type { AgentWorkWakeups } from './work-wakeups.ts';

export interface Work {
  csr: CsrWork[];
  deployments: DeploymentWork[];
}

export interface WorkPollOptions {
  /** When there is no work now, wait up to this long for some (0, the default: answer at once). */
  waitMs?: number;
  /** Record a heartbeat of the agent with the poll (it is alive: it is asking). */
  heartbeat?: boolean;
  /** The client went away: stop waiting and claim nothing. */
  signal?: AbortSignal;
}

/** The audit trail names the connector and the serial the daemon served afterwards, when reported. */
function servedBy(report: DeploymentOutcome['report']): Record<string, unknown> {
  if (!report) return {};
  const served = report.served as { serial?: unknown; matches?: unknown } | undefined;
  return {
    connector: report.connector,
    ...(served?.serial !== undefined ? { served_serial: served.serial, served_matches: served.matches } : {}),
  };
}

export class AgentWorkService {
  constructor(
    private readonly repo: AgentWorkRepository,
    private readonly issuance: IssuanceService,
    private readonly audit: AuditWriter,
    private readonly waiting?: {
      wakeups: AgentWorkWakeups;
      /** Records a heartbeat without metadata; rejects with 410 for a retired agent. */
      heartbeat: (agentId: string) => Promise<void>;
    },
  ) {}

  async #live(agentId: string): Promise<void> {
    const retired = await this.repo.isRetired(agentId);
    if (retired === undefined) throw Errors.notFound(`agent ${agentId} not found`);
    if (retired) throw Errors.gone(`agent ${agentId} is retired`);
  }

  async #serves(agentId: string, certificateId: string): Promise<void> {
    if (!(await this.repo.servesCertificate(agentId, certificateId))) {
      throw Errors.forbidden(`certificate ${certificateId} is not mapped to any target of agent ${agentId}`);
    }
  }

  /**
   * The agent's work now; with `waitMs`, when there is none, the poll sleeps until its agent's
   * work is announced (any replica), then looks again, until the wait runs out (work-wakeups.ts).
   */
  async work(agentId: string, options: WorkPollOptions = {}): Promise<Work & { heartbeat?: 'recorded' }> {
    const wakeups = this.waiting?.wakeups;
    const deadline = performance.now() + (options.waitMs ?? 0);
    const beat = options.heartbeat && this.waiting ? this.waiting.heartbeat(agentId) : undefined;
    await Promise.all([this.#live(agentId), beat]);
    const answer = (work: Work) => (beat ? { ...work, heartbeat: 'recorded' as const } : work);
    let woken = false;
    for (;;) {
      // Registered before the query: an announcement landing between the query and the sleep wakes it.
      const watch = (options.waitMs ?? 0) > 0 && wakeups?.canWait ? wakeups.watch(agentId) : undefined;
      let work: Work;
      try {
        // A woken poll waits its turn (a bulk renewal wakes thousands at once); one whose client left meanwhile claims nothing.
        work =
          woken && wakeups
            ? await wakeups.admitted(() => (options.signal?.aborted ? Promise.resolve({ csr: [], deployments: [] }) : this.#workNow(agentId)))
            : await this.#workNow(agentId);
      } catch (err) {
        watch?.cancel();
        throw err;
      }
      const left = deadline - performance.now();
      if (!watch || work.csr.length > 0 || work.deployments.length > 0 || left <= 0 || options.signal?.aborted) {
        watch?.cancel();
        return answer(work);
      }
      // Nothing yet: an empty answer after a timeout or at shutdown, another look after an announcement.
      if ((await watch.until(left, options.signal)) !== 'work' || options.signal?.aborted) return answer(work);
      woken = true;
    }
  }

  async #workNow(agentId: string): Promise<Work> {
    const [csr, deployments] = await Promise.all([this.repo.csrWork(agentId), this.repo.claimDeployments(agentId, 50)]);
    return { csr, deployments };
  }

  /** Local CA: issued, with its deployments. External CA: queued (deployments follow the signing). */
  async submitCsr(
    principal: Principal | undefined,
    agentId: string,
    certificateId: string,
    csrPem: string,
  ): Promise<{ issued: IssuedCertificate; deployments: number } | QueuedIssuance> {
    await this.#live(agentId);
    await this.#serves(agentId, certificateId);
    const issued = await this.issuance.issueFromCsr(principal, certificateId, csrPem, agentId);
    if (isQueued(issued)) return issued;
    return { issued, deployments: issued.deployments };
  }

  async pemChain(agentId: string, certificateId: string): Promise<string> {
    await this.#live(agentId);
    await this.#serves(agentId, certificateId);
    const pem = await this.repo.latestPemChain(certificateId, agentId);
    if (!pem) throw Errors.notFound(`certificate ${certificateId} has not been issued to agent ${agentId} yet`);
    return pem;
  }

  async report(principal: Principal | undefined, agentId: string, jobId: string, outcome: DeploymentOutcome): Promise<JobRow> {
    await this.#live(agentId);
    return this.audit.atomically(async () => {
      const result = await this.repo.report(agentId, jobId, outcome);
      if (result === 'missing') throw Errors.notFound(`job ${jobId} is not a job of agent ${agentId}`);
      if (result === 'not-running') throw Errors.conflict(`job ${jobId} is not Running: only Running jobs can be reported`);
      await this.audit.record(principal, {
        action: outcome.status === 'Completed' ? 'deployment_completed' : 'deployment_failed',
        resourceType: 'job',
        resourceId: jobId,
        category: 'cert_lifecycle',
        details: {
          certificate_id: result.certificate_id,
          target_id: result.target_id,
          status: result.status,
          ...(outcome.error ? { error: truncate(outcome.error, 500) } : {}),
          ...servedBy(outcome.report),
        },
      });
      return result;
    });
  }
}
