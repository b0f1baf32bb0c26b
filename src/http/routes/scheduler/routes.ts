/**
 * /api/v1/scheduler/loops: the singleton loops with this replica's view of them, and run-now.
 * A run-now request may reach any replica; it travels to the leader as a PostgreSQL NOTIFY
 * (src/scheduler/singleton-loops.ts), so the answer is 202: requested, not done. A loop whose
 * tick is running skips the request (certfleet_loop_skips_total).
 */
import { z } from 'zod';
import { Errors } from '../../../errors.ts';
import type { AuditWriter } from '../../../services/audit/writer.ts';
import type { SingletonLoops } from '../../../scheduler/singleton-loops.ts';
import { route, type RouteDefinition } from '../../router.ts';

export const LoopSchema = z.object({
  name: z.string(),
  running: z.boolean(),
  runs: z.number().int(),
  failures: z.number().int(),
  skips: z.number().int(),
  last_duration_ms: z.number(),
});
const LoopsSchema = z.object({ leader: z.boolean(), data: z.array(LoopSchema) });
const RunRequestedSchema = z.object({ loop: z.string(), requested: z.literal(true) });

export interface SchedulerRouteDeps {
  loops: SingletonLoops;
  isLeader: () => boolean;
  requestRun: (name: string) => Promise<void>;
  audit: AuditWriter;
}

export function schedulerRoutes(deps: SchedulerRouteDeps): RouteDefinition[] {
  return [
    route({
      method: 'GET',
      path: '/api/v1/scheduler/loops',
      summary: 'The singleton loops as this replica sees them (they run on the leader only: `leader` says whether this replica is it)',
      response: { schema: LoopsSchema },
      access: 'scheduler.manage',
      handler: () => ({
        status: 200,
        json: {
          leader: deps.isLeader(),
          data: deps.loops.loops.map((l) => ({
            name: l.name,
            running: l.running,
            runs: l.runs,
            failures: l.failures,
            skips: l.skips,
            last_duration_ms: Math.round(l.lastDurationMs * 10) / 10,
          })),
        },
      }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/scheduler/loops/:name/run',
      summary: 'Ask the leader to run a singleton loop now (202: requested; skipped if its tick is running); audited',
      response: { status: 202, schema: RunRequestedSchema },
      access: 'scheduler.manage',
      handler: async (ctx) => {
        const name = ctx.param('name');
        if (!deps.loops.has(name)) throw Errors.notFound(`no singleton loop ${name}; GET /api/v1/scheduler/loops lists them`);
        await deps.requestRun(name);
        await deps.audit.record(ctx.principal, { action: 'loop_run_requested', resourceType: 'loop', resourceId: name, category: 'config' });
        return { status: 202, json: { loop: name, requested: true } };
      },
    }),
  ];
}
