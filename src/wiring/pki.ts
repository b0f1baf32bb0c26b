/**
 * The PKI area: the local CAs (sealed with the encryption key), issuance (local, and through
 * external CAs with their signing jobs and this replica's job processor), revocation and CRLs.
 */
import { createAcmeChallengeRepository } from '../db/acme-issuer-challenges.ts';
import { loadAcmeAccountKey } from '../db/acme-issuer-accounts.ts';
import { createAgentWorkRepository } from '../db/agent-work.ts';
import { createCaKeyRepository } from '../db/ca-keys.ts';
import { createIssuanceRepository } from '../db/issuance.ts';
import { createRevocationRepository } from '../db/revocations.ts';
import { createSigningJobRepository } from '../db/signing-jobs.ts';
import { JobProcessor } from '../scheduler/job-processor.ts';
import { AcmeIssuer } from '../services/issuers/acme-issuer.ts';
import { CrlService } from '../services/pki/crl.ts';
import { resolveEncryptionKey } from '../services/pki/encryption-key.ts';
import { ExternalIssuanceService } from '../services/pki/external-issuance.ts';
import { IssuanceService } from '../services/pki/issuance.ts';
import { caSpec, LocalCaRegistry } from '../services/pki/local-ca.ts';
import { RevocationService } from '../services/pki/revocation.ts';
import type { WiringContext } from './context.ts';

export async function wirePki({ config, log, pool, metrics, audit, workers }: WiringContext) {
  const encryptionKey = resolveEncryptionKey(config.encryptionKey, config.dataDir);
  const cas = new LocalCaRegistry({ repo: createCaKeyRepository(pool), encryptionKey, publicUrl: config.publicUrl, caFiles: config.caFiles });
  await cas.checkEncryptionKey();
  const issuanceRepo = createIssuanceRepository(pool);
  const agentWorkRepo = createAgentWorkRepository(pool);
  const signingJobs = createSigningJobRepository(pool);
  const acmeChallenges = createAcmeChallengeRepository(pool);
  // Server-side work: CSRs that external CAs sign, at most CERTFLEET_RENEWAL_CONCURRENCY in
  // flight on this replica; a CSR queued here is picked up at once.
  const external = new ExternalIssuanceService({
    repo: issuanceRepo,
    signing: signingJobs,
    deployments: agentWorkRepo,
    issuers: {
      acme: new AcmeIssuer({ accountKey: (issuerId, create) => loadAcmeAccountKey(pool, encryptionKey, issuerId, create), challenges: acmeChallenges, log }),
    },
    workers,
    audit,
    maxWaitSeconds: config.asyncPollMaxWaitSeconds,
    onQueued: () => jobProcessor.loop.trigger(), // only ever called by requests, after start-up
  });
  const jobProcessor = new JobProcessor({
    jobs: signingJobs,
    run: (job, signal) => external.process(job, signal),
    concurrency: config.renewalConcurrency,
    intervalMs: config.jobProcessorIntervalSeconds * 1000,
    log,
  });
  metrics.gauge('certfleet_jobs_in_flight', 'Server-side jobs (external CA signing) running on this replica', () => jobProcessor.inFlight);
  const issuance = new IssuanceService({ repo: issuanceRepo, cas, workers, audit, deployments: agentWorkRepo, external });
  const revocationRepo = createRevocationRepository(pool);
  const crls = new CrlService({
    repo: revocationRepo,
    cas,
    workers,
    log,
    issuerCaSpec: async (issuerId) => {
      const issuer = await issuanceRepo.localIssuer(issuerId);
      return issuer ? caSpec(issuerId, issuer) : undefined;
    },
  });
  const revocation = new RevocationService(revocationRepo, crls, audit);
  return { encryptionKey, issuance, revocation, crls, jobProcessor, agentWorkRepo, acmeChallenges };
}
