/** GET /health (liveness, never touches the database) and GET /ready (one database round trip). */
import { z } from 'zod';
import { Errors } from '../../../errors.ts';
import { route, type RouteDefinition } from '../../router.ts';
import type { HttpEngine } from '../../uws.ts';

export interface HealthDeps {
  version: string;
  engine: HttpEngine;
  startedAt: number;
  /** Resolves when the database answers; rejects with the reason otherwise. */
  pingDatabase: () => Promise<void>;
  /** Whether this replica holds the leader lock (runs the singleton loops). */
  isLeader: () => boolean;
  /** Whether the change feed is listening (caches evicted by announcements, not just by age). */
  changeFeedUp: () => boolean;
}

export function healthRoutes(deps: HealthDeps): RouteDefinition[] {
  const engine = { name: deps.engine.name, version: deps.engine.version };
  return [
    route({
      method: 'GET',
      path: '/health',
      summary: 'Liveness: version and the HTTP engine serving; never touches the database',
      response: {
        schema: z.object({
          status: z.literal('ok'),
          version: z.string(),
          http_engine: z.object({ name: z.string(), version: z.string() }),
          uptime_seconds: z.number().int(),
          leader: z.boolean().describe('this replica runs the singleton loops'),
          caches: z
            .enum(['coherent', 'degraded'])
            .describe(
              'coherent: the change feed is listening and every replica sees a change within a second; degraded: it is reconnecting, response caches are bypassed and API keys are re-read every second',
            ),
        }),
      },
      access: 'public',
      quiet: true,
      handler: () => ({
        status: 200,
        json: {
          status: 'ok',
          version: deps.version,
          http_engine: engine,
          uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
          leader: deps.isLeader(),
          caches: deps.changeFeedUp() ? 'coherent' : 'degraded',
        },
      }),
    }),
    route({
      method: 'GET',
      path: '/ready',
      summary: 'Readiness: 200 when a database round trip succeeds, 503 (Retry-After: 1) otherwise',
      response: { schema: z.object({ status: z.literal('ready'), database: z.literal('reachable') }) },
      access: 'public',
      quiet: true,
      handler: async () => {
        try {
          await deps.pingDatabase();
        } catch (err) {
          throw Errors.unavailable(`database unreachable: ${(err as Error).message}`, 1);
        }
        return { status: 200, json: { status: 'ready', database: 'reachable' } };
      },
    }),
  ];
}
