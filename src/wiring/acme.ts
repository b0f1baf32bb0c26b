/** The ACME server (RFC 8555 + ARI + profiles): accounts, nonces, limits, orders and validation. */
import { AcmeServer } from '../acme/server.ts';
import { poolVerifier } from '../acme/requests.ts';
import { createAcmeOrderRepository } from '../db/acme-orders.ts';
import { createAcmeServerRepository } from '../db/acme-server.ts';
import type { ChangeFeed } from '../db/change-feed.ts';
import { loadInstanceSecret } from '../db/instance-secrets.ts';
import type { CertificateService } from '../services/certificates/certificates.ts';
import type { IssuanceService } from '../services/pki/issuance.ts';
import type { RevocationService } from '../services/pki/revocation.ts';
import type { WiringContext } from './context.ts';

export async function wireAcme(
  { config, pool, metrics, audit, workers }: WiringContext,
  deps: { changes: ChangeFeed; encryptionKey: Buffer; certificates: CertificateService; issuance: IssuanceService; revocation: RevocationService },
): Promise<AcmeServer> {
  const acme = new AcmeServer({
    repo: createAcmeServerRepository(pool),
    audit,
    nonceKey: await loadInstanceSecret(pool, 'acme-nonce-hmac'),
    nonceTtlSeconds: config.acmeNonceTtlSeconds,
    publicUrl: config.publicUrlConfigured,
    scheme: config.tls ? 'https' : 'http',
    meta: { termsOfService: config.acmeTermsOfServiceUrl, website: config.acmeWebsiteUrl, caaIdentities: config.acmeCaaIdentities },
    encryptionKey: deps.encryptionKey,
    eabRequired: config.acmeEabRequired,
    rateLimits: config.acmeRateLimits,
    remoteVerify: poolVerifier(workers),
    accountChanges: deps.changes,
    orders: {
      repo: createAcmeOrderRepository(pool),
      changes: deps.changes,
      defaultProfile: config.acmeDefaultProfile,
      settings: {
        orderTtlSeconds: config.acmeOrderTtlSeconds,
        maxPendingOrdersPerAccount: config.acmeMaxPendingOrdersPerAccount,
        // Well past any validation's own deadline: only abandoned ones qualify.
        interruptedValidationSeconds: config.acmeValidation.timeoutSeconds * 3 + 30,
      },
      retentionSeconds: config.acmeOrderRetentionSeconds,
      validators: config.acmeValidators,
      validation: config.acmeValidation,
      certificates: deps.certificates,
      issuance: deps.issuance,
      revocation: deps.revocation,
      workers,
    },
    renewalInfoRetryAfterSeconds: config.acmeRenewalInfoRetryAfterSeconds,
  });
  metrics.gauge('certfleet_acme_validations_queued', 'ACME challenge validations running or waiting on this replica', () => acme.validations.depth);
  return acme;
}
