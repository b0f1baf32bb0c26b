/** GET /health (liveness, never touches the database) and GET /ready (one database round trip). */
import { Errors } from '../../../errors.ts';
import type { RouteDefinition } from '../../router.ts';
import type { HttpEngine } from '../../uws.ts';

export interface HealthDeps {
  version: string;
  engine: HttpEngine;
  startedAt: number;
  /** Resolves when the database answers; rejects with the reason otherwise. */
  pingDatabase: () => Promise<void>;
}

export function healthRoutes(deps: HealthDeps): RouteDefinition[] {
  const engine = { name: deps.engine.name, version: deps.engine.version };
  return [
    {
      method: 'GET',
      path: '/health',
      access: 'public',
      quiet: true,
      handler: () => ({
        status: 200,
        json: {
          status: 'ok',
          version: deps.version,
          http_engine: engine,
          uptime_seconds: Math.round((Date.now() - deps.startedAt) / 1000),
        },
      }),
    },
    {
      method: 'GET',
      path: '/ready',
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
    },
  ];
}
