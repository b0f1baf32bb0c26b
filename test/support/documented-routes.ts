/**
 * The route definitions without a running server, for the OpenAPI generator and its test.
 * Handlers are never called here, so their collaborators can be inert placeholders.
 */
import { buildRoutes, type RouteDeps } from '../../src/http/routes/index.ts';
import type { RouteDefinition } from '../../src/http/router.ts';

export function documentedRoutes(): RouteDefinition[] {
  const inert = {} as never;
  const deps: RouteDeps = {
    health: {
      version: '0',
      engine: { name: 'uWebSockets.js', version: '0', uws: inert },
      startedAt: 0,
      pingDatabase: async () => undefined,
      isLeader: () => false,
      changeFeedUp: () => true,
    },
    metrics: inert,
    metricsToken: undefined,
    apiKeys: inert,
    inventory: inert,
    audit: inert,
    auditLog: inert,
    certificates: inert,
    issuance: inert,
    revocation: inert,
    crls: inert,
    agents: inert,
    cursors: inert,
    jobs: inert,
    agentWork: inert,
    discovery: inert,
    notifications: inert,
    scheduler: inert,
    acme: inert,
    acmeChallenges: inert,
  };
  return buildRoutes(deps);
}
