/** GET /metrics in Prometheus text format, optionally behind CERTFLEET_METRICS_TOKEN. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Errors } from '../../../errors.ts';
import type { Metrics } from '../../../observability/metrics.ts';
import { bearerToken } from '../../auth.ts';
import { route, type RouteDefinition } from '../../router.ts';

export interface MetricsDeps {
  metrics: Metrics;
  /** When set, scrapes must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function metricsRoutes(deps: MetricsDeps): RouteDefinition[] {
  const expected = deps.token === undefined ? undefined : digest(deps.token);
  return [
    route({
      method: 'GET',
      path: '/metrics',
      summary: 'Prometheus metrics; Bearer CERTFLEET_METRICS_TOKEN when that is set',
      response: { contentType: 'text/plain; version=0.0.4', description: 'Prometheus text exposition format' },
      access: 'public',
      quiet: true,
      handler: async (ctx) => {
        if (expected) {
          // Digests have equal length, so timingSafeEqual never throws and leaks no length.
          if (!timingSafeEqual(digest(bearerToken(ctx.authorization)), expected)) {
            throw Errors.unauthenticated('invalid metrics token');
          }
        }
        return {
          status: 200,
          raw: { contentType: deps.metrics.contentType, payload: await deps.metrics.render() },
        };
      },
    }),
  ];
}
