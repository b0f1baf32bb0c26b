/**
 * Routing: uWS matches routes natively (its own router, DESIGN.md); what runs in JavaScript is
 * the 404/405 fallback (which methods a path allows) and the path-parameter decoding every
 * parameterised route does.
 */
import { documentedRoutes } from '../../test/support/documented-routes.ts';
import { MethodIndex } from '../../src/http/router.ts';
import type { BenchFile } from '../harness.ts';

const index = new MethodIndex();
for (const route of documentedRoutes()) index.add(route);

export default {
  title: `fallback method lookup over ${documentedRoutes().length} routes, and path-parameter decoding`,
  cases: () => [
    { name: 'allowed(/api/v1/agents/agent-1/heartbeat) (405 path)', fn: () => void index.allowed('/api/v1/agents/agent-1/heartbeat') },
    { name: 'allowed(/api/v1/nope/1) (404 path)', fn: () => void index.allowed('/api/v1/nope/1') },
    { name: 'decodeURIComponent of a plain id + NUL check', fn: () => void decodeURIComponent('load-agent-0000042').includes('\0') },
  ],
} satisfies BenchFile;
