/**
 * Issuance through an external CA (issuer types in `externalIssuerTypes`): the same contract as
 * the local CA (a CSR in, a version stored, the open job completed, deployments fanned out), but
 * asynchronous. A CSR is checked at once (a bad one is a 400, never an order placed with the
 * CA) and queued as a Signing job; the job processor later runs `process`.
 *
 * Step 1 (request): verify the CSR and the profile in a worker; it must request exactly the
 *   managed certificate's names (an external CA signs what the CSR asks for).
 * Step 2 (request): queue a Signing job answering the open issuance/renewal job.
 * Step 3 (processor): order from the CA and wait for it (growing, jittered polls; max wait).
 * Step 4 (processor): store the chain as a version (completing the open job once every serving
 *   agent has one), deployment jobs for the agent's targets, the Signing job Completed; audit.
 */
import { createHash } from 'node:crypto';
import type { AgentWorkRepository } from '../../db/agent-work.ts';
import type { IssuanceContext, IssuanceRepository } from '../../db/issuance.ts';
import type { SigningJob, SigningJobRepository } from '../../db/signing-jobs.ts';
import { Errors } from '../../errors.ts';
import { certificateInfo, pemCertificateDer } from '../../pki/certificate-info.ts';
import type { WorkerPool } from '../../workers/pool.ts';
import type { AuditWriter } from '../audit/writer.ts';
import type { Principal } from '../auth/permissions.ts';
import { newId } from '../../domain/ids.ts';
import { pollMaxWaitMs } from '../issuers/async-poll.ts';
import type { ExternalIssuer } from '../issuers/connector.ts';

export interface ExternalIssuanceOptions {
  repo: Pick<IssuanceRepository, 'recordIssued'>;
  signing: SigningJobRepository;
  deployments: Pick<AgentWorkRepository, 'createDeployments'>;
  issuers: Readonly<Record<string, ExternalIssuer>>;
  workers: WorkerPool;
  audit: AuditWriter;
  /** CERTFLEET_ASYNC_POLL_MAX_WAIT_SECONDS: the default max wait of every external issuer. */
  maxWaitSeconds: number | undefined;
  /** A job was queued: the processor may start it now instead of at its next tick. */
  onQueued?: () => void;
}

/** What a CSR for an external issuer gets back: queued, with the job to watch. */
export interface QueuedIssuance {
  certificateId: string;
  jobId: string;
}

export class ExternalIssuanceService {
  readonly #o: ExternalIssuanceOptions;

  constructor(options: ExternalIssuanceOptions) {
    this.#o = options;
  }

  async submit(principal: Principal | undefined, ctx: IssuanceContext, csrPem: string, agentId: string | undefined): Promise<QueuedIssuance> {
    // Step 1
    const names = [...new Set([ctx.common_name, ...ctx.sans].map((n) => n.toLowerCase()))];
    const checked = await this.#o.workers.run('verifyCsr', {
      csr: csrPem,
      names,
      rules: ctx.profile_id
        ? {
            allowedKeyAlgorithms: ctx.allowed_key_algorithms ?? [],
            allowedEkus: ctx.allowed_ekus ?? [],
            sanPatterns: ctx.san_patterns ?? [],
            maxTtlSeconds: ctx.max_ttl_seconds ?? 0,
          }
        : null,
    });
    if (!checked.ok) throw Errors.validation(`${checked.field}: ${checked.reason}`);
    const requested = new Set(checked.requested);
    if (requested.size !== names.length || names.some((n) => !requested.has(n))) {
      throw Errors.validation(
        `csr_pem: issuer ${ctx.issuer_id} (${ctx.issuer_type}) signs only the names a CSR requests; request exactly ${names.join(', ')} (this one requests ${checked.requested.join(', ') || 'none'})`,
      );
    }
    // Step 2
    const job = await this.#o.audit.atomically(async () => {
      const job = await this.#o.signing.create(newId('job'), ctx.certificate_id, agentId, csrPem);
      if (job.created) {
        await this.#o.audit.record(principal, {
          action: 'certificate_signing_queued',
          resourceType: 'certificate',
          resourceId: ctx.certificate_id,
          category: 'cert_lifecycle',
          details: { job_id: job.id, issuer_id: ctx.issuer_id, ...(agentId ? { agent_id: agentId } : {}) },
        });
      }
      return job;
    });
    if (job.created) this.#o.onQueued?.();
    return { certificateId: ctx.certificate_id, jobId: job.id };
  }

  /** Runs one claimed Signing job to its end; throws (with the CA's reason) when it did not issue. */
  async process(job: SigningJob, signal: AbortSignal): Promise<void> {
    const issuer = this.#o.issuers[job.issuer_type];
    if (!issuer) throw new Error(`issuer ${job.issuer_id} has type ${job.issuer_type}, which does not sign asynchronously`);
    // Step 3
    const outcome = await issuer.issue({
      issuerId: job.issuer_id,
      config: job.issuer_config,
      csrPem: job.csr_pem,
      names: job.names,
      ref: job.external_ref ?? undefined,
      saveRef: (ref) => this.#o.signing.saveRef(job.id, ref),
      poll: { maxWaitMs: pollMaxWaitMs(job.issuer_config as { async_poll_max_wait_seconds?: number }, this.#o.maxWaitSeconds), signal },
    });
    if (outcome.state === 'failed') throw new Error(`the CA refused: ${outcome.reason}`);
    if (outcome.state === 'timeout') throw new Error(`the CA did not issue in time (${outcome.attempts} polls; last: ${outcome.detail ?? 'pending'})`);
    // Step 4
    const chain = outcome.value.trim() + '\n';
    const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chain)?.[0];
    if (!leafPem) throw new Error('the CA returned no certificate');
    const leafDer = pemCertificateDer(leafPem);
    const info = certificateInfo(leafDer);
    // The version, its deployments, the job's completion and the event commit together.
    await this.#o.audit.atomically(async () => {
      const status = await this.#o.repo.recordIssued(job.certificate_id, {
        id: newId('certver'),
        serialNumber: info.serial_number,
        notBefore: new Date(info.not_before),
        notAfter: new Date(info.not_after),
        fingerprint: createHash('sha256').update(leafDer).digest('hex'),
        pemChain: chain,
        csrPem: job.csr_pem,
        keyAlgorithm: info.key_algorithm,
        keySize: info.key_size,
        agentId: job.agent_id ?? undefined,
      });
      if (!status) throw new Error(`certificate ${job.certificate_id} was archived or revoked while the CA was issuing`);
      const deployments = job.agent_id ? await this.#o.deployments.createDeployments(job.certificate_id, job.agent_id, () => newId('job')) : 0;
      await this.#o.signing.complete(job.id);
      await this.#o.audit.record(undefined, {
        action: 'certificate_issued',
        resourceType: 'certificate',
        resourceId: job.certificate_id,
        category: 'cert_lifecycle',
        details: {
          serial_number: info.serial_number,
          not_after: new Date(info.not_after).toISOString(),
          issuer_id: job.issuer_id,
          job_id: job.id,
          deployments,
          ...(job.agent_id ? { agent_id: job.agent_id } : {}),
        },
      });
    });
  }
}
