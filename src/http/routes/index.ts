/**
 * Every route certfleet serves, in one list: app.ts registers it, and the OpenAPI generator
 * (src/http/openapi.ts) documents it, so the two cannot disagree.
 */
import type { Metrics } from '../../observability/metrics.ts';
import type { AuditLog } from '../../services/audit/audit-log.ts';
import type { AuditWriter } from '../../services/audit/writer.ts';
import type { ApiKeyService } from '../../services/auth/api-keys.ts';
import type { CertificateService } from '../../services/certificates/certificates.ts';
import type { CursorCodec } from '../../services/cursor.ts';
import type { AgentService } from '../../services/fleet/agents.ts';
import type { DiscoveryService } from '../../services/fleet/discovery.ts';
import type { AgentWorkService } from '../../services/fleet/work.ts';
import type { InventoryServices } from '../../services/inventory/inventory-services.ts';
import type { JobService } from '../../services/jobs.ts';
import type { NotificationService } from '../../services/notifications.ts';
import type { CrlService } from '../../services/pki/crl.ts';
import type { IssuanceService } from '../../services/pki/issuance.ts';
import type { RevocationService } from '../../services/pki/revocation.ts';
import type { AcmeServer } from '../../acme/server.ts';
import type { RouteDefinition } from '../router.ts';
import { acmeRoutes } from './acme/routes.ts';
import { acmeEabKeyRoutes } from './acme-eab-keys/routes.ts';
import { agentRoutes } from './agents/routes.ts';
import { auditRoutes } from './audit/routes.ts';
import { authKeyRoutes } from './auth-keys/routes.ts';
import { certificateRoutes } from './certificates/routes.ts';
import { discoveryRoutes } from './discovery/routes.ts';
import { inventoryRoutes } from './common/inventory-routes.ts';
import { healthRoutes, type HealthDeps } from './health/routes.ts';
import { jobRoutes } from './jobs/routes.ts';
import { metricsRoutes } from './metrics/routes.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { pkiRoutes, type ChallengeResponses } from './pki/routes.ts';
import { revocationRoutes } from './revocation/routes.ts';
import { schedulerRoutes, type SchedulerRouteDeps } from './scheduler/routes.ts';

export interface RouteDeps {
  health: HealthDeps;
  metrics: Metrics;
  metricsToken: string | undefined;
  apiKeys: ApiKeyService;
  inventory: InventoryServices;
  audit: AuditWriter;
  auditLog: AuditLog;
  certificates: CertificateService;
  issuance: IssuanceService;
  revocation: RevocationService;
  crls: CrlService;
  agents: AgentService;
  cursors: CursorCodec;
  jobs: JobService;
  agentWork: AgentWorkService;
  discovery: DiscoveryService;
  notifications: NotificationService;
  acmeChallenges: ChallengeResponses;
  scheduler: SchedulerRouteDeps;
  acme: AcmeServer;
}

export function buildRoutes(deps: RouteDeps): RouteDefinition[] {
  return [
    ...healthRoutes(deps.health),
    ...metricsRoutes({ metrics: deps.metrics, token: deps.metricsToken }),
    ...authKeyRoutes({ apiKeys: deps.apiKeys }),
    ...inventoryRoutes({ services: deps.inventory }),
    ...certificateRoutes({ certificates: deps.certificates, issuance: deps.issuance }),
    ...revocationRoutes({ revocation: deps.revocation }),
    ...auditRoutes({ auditLog: deps.auditLog, audit: deps.audit }),
    ...pkiRoutes({ crls: deps.crls, acmeChallenges: deps.acmeChallenges }),
    ...agentRoutes({ agents: deps.agents, work: deps.agentWork, cursors: deps.cursors }),
    ...jobRoutes({ jobs: deps.jobs }),
    ...discoveryRoutes({ discovery: deps.discovery }),
    ...notificationRoutes({ notifications: deps.notifications }),
    ...schedulerRoutes(deps.scheduler),
    ...acmeRoutes({ acme: deps.acme }),
    ...acmeEabKeyRoutes({ acme: deps.acme }),
  ];
}
