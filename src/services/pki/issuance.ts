/**
 * Issuance from a CSR for a managed certificate: the same path serves REST clients (bring your
 * own CSR) and agents (`issueFromCsr`), and ACME finalize with a local CA (`issueNew`, or
 * `issuerContext` + `signNew` + `recordNew` for a group of finalizes).
 *
 * Step 1: read certificate, issuer and profile in one query; refuse what cannot be issued.
 * Step 2: verify the CSR, check the profile and sign, in a worker thread.
 * Step 3: store the version, activate the certificate, create the agent's deployments and the
 *         audit event in one transaction. A certificate born issued (ACME) is instead inserted
 *         once, already Active with its first version, in the caller's transaction.
 * Names and lifetime come from the managed certificate and its issuer/profile, never from the
 * CSR: the CSR proves possession of the key.
 */
import { createHash } from 'node:crypto';
import type { AgentWorkRepository } from '../../db/agent-work.ts';
import type { BornIssuedCertificate, IssuanceRepository, IssuerContext, NewVersion } from '../../db/issuance.ts';
import { Errors } from '../../errors.ts';
import { toPem } from '../../pki/certificate.ts';
import type { CheckedCsr } from '../../workers/issue-certificate.task.ts';
import type { WorkerPool } from '../../workers/pool.ts';
import type { AuditWriter, RecordedEvent } from '../audit/writer.ts';
import { createdEvent } from '../certificates/certificates.ts';
import type { Principal } from '../auth/permissions.ts';
import { newId } from '../../domain/ids.ts';
import { isTerminal } from '../../domain/lifecycle.ts';
import { externalIssuerTypes } from '../issuers/connector.ts';
import type { ExternalIssuanceService, QueuedIssuance } from './external-issuance.ts';
import { caSpec, type LocalCaRegistry } from './local-ca.ts';

export function isQueued(result: IssuedCertificate | QueuedIssuance): result is QueuedIssuance {
  return 'jobId' in result;
}

export interface IssuedCertificate {
  certificateId: string;
  versionId: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
  certificatePem: string;
  chainPem: string;
  /** Deployment jobs created for the agent whose CSR this was (0 for REST). */
  deployments: number;
}

export interface IssuanceOptions {
  repo: IssuanceRepository;
  cas: LocalCaRegistry;
  workers: WorkerPool;
  audit: AuditWriter;
  /** Deployment jobs for an agent's new leaf, created with the version. */
  deployments: Pick<AgentWorkRepository, 'createDeployments'>;
  /** Issuance through external CAs; without it their certificates answer 503. */
  external?: ExternalIssuanceService;
  now?: () => number;
}

/** A lifetime the requester asked for (ACME notBefore/notAfter). */
export interface RequestedValidity {
  notBefore?: Date | undefined;
  notAfter?: Date | undefined;
}

const defaultValidityDays = 90;
/** notBefore is backdated so clients with slightly slow clocks accept the certificate at once. */
const backdateMs = 60_000;

export class IssuanceService {
  readonly #o: IssuanceOptions;

  constructor(options: IssuanceOptions) {
    this.#o = options;
  }

  /** `agentId`: the agent whose CSR this is (its own leaf; see migrations/0007_agent_versions.sql). */
  /** An external issuer (ACME) answers `QueuedIssuance`: a Signing job the job processor completes. */
  /** `validity`: a lifetime the requester asked for (ACME notBefore/notAfter); never longer than the issuer and profile allow. */
  async issueFromCsr(
    principal: Principal | undefined,
    certificateId: string,
    csr: string,
    agentId?: string,
    validity?: RequestedValidity,
  ): Promise<IssuedCertificate | QueuedIssuance> {
    // Step 1
    const ctx = await this.#o.repo.context(certificateId);
    if (!ctx) throw Errors.notFound(`certificate ${certificateId} not found`);
    if (isTerminal(ctx.status)) {
      throw Errors.conflict(`certificate ${certificateId} is ${ctx.status} and cannot be issued`);
    }
    this.#refuseDisabled(ctx);
    if (externalIssuerTypes.has(ctx.issuer_type)) {
      if (!this.#o.external) throw Errors.unavailable(`issuer type ${ctx.issuer_type} is not enabled on this server`);
      return this.#o.external.submit(principal, ctx, csr, agentId);
    }
    // Step 2
    const signed = await this.#sign(ctx, ctx.common_name, ctx.sans, csr, validity);
    const issued = { ...signed.issued, certificateId };

    // Step 3: the version, the agent's deployments and the event commit together.
    const deployments = await this.#o.audit.atomically(async () => {
      const status = await this.#o.repo.recordIssued(certificateId, { ...signed.version, agentId });
      if (!status) throw Errors.conflict(`certificate ${certificateId} was archived or revoked while it was being issued`);
      // Only this agent holds the key of this leaf, so only its own targets deploy it.
      const deployments = agentId ? await this.#o.deployments.createDeployments(certificateId, agentId, () => newId('job')) : 0;
      await this.#o.audit.record(principal, issuedEvent(certificateId, ctx.issuer_id, signed, agentId ? { agent_id: agentId, deployments } : {}));
      return deployments;
    });
    return { ...issued, deployments };
  }

  /**
   * A certificate born issued (ACME finalize): signed first, then its row (Active) and its first
   * version written by one statement with its created and issued events, in the caller's unit
   * of work. Undefined for an external issuer, whose signing is queued: the caller creates the
   * certificate and goes through `issueFromCsr` instead.
   */
  async issueNew(
    principal: Principal | undefined,
    certificate: BornIssuedCertificate,
    csr: string,
    validity?: RequestedValidity,
  ): Promise<IssuedCertificate | undefined> {
    const ctx = await this.issuerContext(certificate.issuer_id, certificate.certificate_profile_id);
    if (externalIssuerTypes.has(ctx.issuer_type)) return undefined;
    const leaf = await this.signNew(ctx, certificate, csr, validity);
    await this.#o.audit.atomically(() => this.recordNew([{ principal, certificate, leaf }]));
    return { ...leaf.issued, certificateId: certificate.id, deployments: 0 };
  }

  /** What signing for a new certificate of this issuer and profile needs; refuses disabled ones. */
  async issuerContext(issuerId: string, profileId: string | null): Promise<IssuerContext> {
    const ctx = await this.#o.repo.issuerContext(issuerId, profileId);
    if (!ctx) throw Errors.notFound(`issuer ${issuerId} not found`);
    this.#refuseDisabled(ctx);
    return ctx;
  }

  /**
   * Signs the leaf of a certificate not written yet (a local issuer's `ctx`); `recordNew` stores
   * it. `checked`: what the verifyCsr task found for this request against this profile, so the
   * signing task does not check it again.
   */
  signNew(ctx: IssuerContext, certificate: BornIssuedCertificate, csr: string, validity?: RequestedValidity, checked?: CheckedCsr): Promise<SignedLeaf> {
    return this.#sign(ctx, certificate.common_name, certificate.sans, csr, validity, checked);
  }

  /**
   * Writes certificates born issued, each with its first version, in one statement, and their
   * created and issued events: in the caller's unit of work (a group of finalizes commits its
   * certificates together).
   */
  async recordNew(entries: ReadonlyArray<{ principal: Principal | undefined; certificate: BornIssuedCertificate; leaf: SignedLeaf }>): Promise<void> {
    if (entries.length === 0) return;
    await this.#o.repo.insertIssued(entries.map(({ certificate, leaf }) => ({ certificate, version: leaf.version })));
    await this.#o.audit.recordAll(
      entries.flatMap(({ principal, certificate, leaf }) => [
        { principal, event: createdEvent({ id: certificate.id, name: certificate.name, common_name: certificate.common_name, target_ids: [] }) },
        { principal, event: issuedEvent(certificate.id, certificate.issuer_id, leaf, {}) },
      ]),
    );
  }

  #refuseDisabled(ctx: IssuerContext): void {
    if (!ctx.issuer_enabled) throw Errors.conflict(`issuer ${ctx.issuer_id} is disabled`);
    if (ctx.profile_id && ctx.profile_enabled === false) throw Errors.conflict(`certificate profile ${ctx.profile_id} is disabled`);
  }

  /** Verifies the CSR against the profile and signs it with the issuer's CA, in a worker thread. */
  async #sign(
    ctx: IssuerContext,
    commonName: string,
    sans: string[],
    csr: string,
    validity: RequestedValidity | undefined,
    checked?: CheckedCsr,
  ): Promise<SignedLeaf> {
    const ca = await this.#o.cas.get(ctx.issuer_id, caSpec(ctx.issuer_id, ctx.issuer_config));

    const now = this.#o.now?.() ?? Date.now();
    let ttlMs = (ctx.issuer_config.validity_days ?? defaultValidityDays) * 86_400_000;
    if (ctx.max_ttl_seconds) ttlMs = Math.min(ttlMs, ctx.max_ttl_seconds * 1000);
    const notBefore = Math.floor((validity?.notBefore?.getTime() ?? now - backdateMs) / 1000) * 1000;
    // The lifetime runs from now (the backdate is a grace for slow clocks, not lifetime taken).
    const longest = Math.min(Math.floor((Math.max(notBefore, now) + ttlMs) / 1000) * 1000, ca.template.notAfter.getTime());
    const notAfter = validity?.notAfter ? Math.floor(validity.notAfter.getTime() / 1000) * 1000 : longest;
    if (notAfter > longest || notAfter <= notBefore) {
      throw Errors.validation(
        `notAfter: ${new Date(notAfter).toISOString()} is outside what this issuer and profile allow (up to ${new Date(longest).toISOString()})`,
      );
    }
    const result = await this.#o.workers.run('issueCertificate', {
      ca: { id: ca.issuerId, keyPkcs8: ca.keyPkcs8, certificateDer: ca.certificateDer, crlUrl: ca.crlUrl },
      csr,
      ...(checked ? { checked } : {}),
      commonName,
      names: dedupe([commonName, ...sans]),
      notBefore,
      notAfter,
      ekus: ctx.allowed_ekus?.length ? ctx.allowed_ekus : ['serverAuth'],
      rules: ctx.profile_id
        ? {
            allowedKeyAlgorithms: ctx.allowed_key_algorithms ?? [],
            allowedEkus: ctx.allowed_ekus ?? [],
            sanPatterns: ctx.san_patterns ?? [],
            maxTtlSeconds: ctx.max_ttl_seconds ?? 0,
          }
        : null,
    });
    if (!result.ok) throw Errors.validation(`${result.field}: ${result.reason}`);

    const der = Buffer.from(result.der);
    const certificatePem = toPem(der);
    const issued = {
      versionId: newId('certver'),
      serialNumber: result.serial,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      fingerprint: createHash('sha256').update(der).digest('hex'),
      certificatePem,
      chainPem: ca.certificatePem,
    };
    return {
      issued,
      version: {
        id: issued.versionId,
        serialNumber: issued.serialNumber,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        fingerprint: issued.fingerprint,
        pemChain: `${certificatePem}${ca.certificatePem}`,
        csrPem: toPem(Buffer.from(result.csrDer), 'CERTIFICATE REQUEST'),
        keyAlgorithm: result.keyAlgorithm,
        keySize: result.keySize,
      },
    };
  }
}

/** A leaf signed and not stored yet. */
export interface SignedLeaf {
  issued: Omit<IssuedCertificate, 'certificateId' | 'deployments'>;
  version: NewVersion;
}

function issuedEvent(certificateId: string, issuerId: string, signed: SignedLeaf, extra: Record<string, unknown>): RecordedEvent {
  return {
    action: 'certificate_issued',
    resourceType: 'certificate',
    resourceId: certificateId,
    category: 'cert_lifecycle',
    details: {
      serial_number: signed.issued.serialNumber,
      not_after: signed.issued.notAfter.toISOString(),
      issuer_id: issuerId,
      key_algorithm: signed.version.keyAlgorithm,
      ...extra,
    },
  };
}

function dedupe(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => {
    const key = n.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
