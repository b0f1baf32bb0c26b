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

  async work(agentId: string): Promise<{ csr: CsrWork[]; deployments: DeploymentWork[] }> {
    await this.#live(agentId);
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
