/**
 * /api/v1/agents: registration (bootstrap token), list (keyset), get, retire, and the agent's
 * own routes (heartbeat), which its key alone may call.
 */
import { z } from 'zod';
import type { AgentRow } from '../../../domain/agents.ts';
import { Keyset, type CursorCodec } from '../../../services/cursor.ts';
import type { AgentService } from '../../../services/fleet/agents.ts';
import type { AgentWorkService } from '../../../services/fleet/work.ts';
import { bearerToken } from '../../auth.ts';
import { pick } from '../../presenters/row.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { listEnvelope } from '../common/responses.ts';
import {
  AgentCsrSchema,
  JobStatusSchema,
  WorkSchema,
  WorkQuerySchema,
  AgentRegisteredSchema,
  AgentSchema,
  AgentsListSchema,
  AgentsRegisterSchema,
  AgentsRetireSchema,
  HeartbeatSchema,
} from './schema.ts';

const fields = [
  'id',
  'name',
  'hostname',
  'status',
  'os',
  'architecture',
  'ip_address',
  'version',
  'registered_at',
  'last_heartbeat_at',
  'retired_at',
  'retired_reason',
];
const present = (a: AgentRow) => pick(a, fields);
const heartbeatOk = JSON.stringify({ status: 'ok' });

export function agentRoutes(deps: { agents: AgentService; work: AgentWorkService; cursors: CursorCodec }): RouteDefinition[] {
  const { agents, work, cursors } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/agents',
      summary: 'Register an agent with Authorization: Bearer <CERTFLEET_AGENT_BOOTSTRAP_TOKEN>; returns its API key once',
      response: { status: 201, schema: AgentRegisteredSchema },
      access: 'public',
      guard: (ctx) => agents.checkBootstrapToken(bearerToken(ctx.authorization)),
      body: AgentsRegisterSchema,
      handler: async (ctx) => {
        const { agent, apiKey } = await agents.register(ctx.body);
        return { status: 201, headers: { Location: `/api/v1/agents/${agent.id}` }, json: { ...present(agent), api_key: apiKey } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/agents',
      summary: 'List agents that are not retired, by id, with a keyset cursor',
      query: AgentsListSchema,
      response: { schema: listEnvelope(AgentSchema, { cursor: true, page: false }).omit({ total: true }) },
      access: 'agents.read',
      etag: true,
      handler: async (ctx) => {
        const q = ctx.queryParams;
        const perPage = q.per_page ?? 50;
        const keyset = new Keyset(cursors, 'agents:id', {});
        const { rows, nextCursor } = keyset.page(await agents.list(perPage + 1, keyset.after(q.cursor)?.id), perPage);
        return { status: 200, json: { data: rows.map(present), per_page: perPage, ...(nextCursor ? { next_cursor: nextCursor } : {}) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/agents/:id',
      summary: 'Get an agent, with its last heartbeat',
      response: { schema: AgentSchema },
      access: 'agents.read',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: present(await agents.get(ctx.param('id'))) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/v1/agents/:id',
      summary: 'Retire an agent (soft): its routes answer 410 from then on',
      query: AgentsRetireSchema,
      response: { schema: AgentSchema },
      access: 'agents.manage',
      handler: async (ctx) => {
        const { reason } = ctx.queryParams;
        return { status: 200, json: present(await agents.retire(ctx.principal, ctx.param('id'), reason ?? 'retired')) };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/agents/:id/heartbeat',
      summary: "The agent's heartbeat (optional metadata); answered only after it is durably recorded",
      response: { schema: z.object({ status: z.literal('ok') }) },
      access: 'agent.self',
      body: HeartbeatSchema,
      bodyOptional: true,
      // Hot route: tens of thousands per second; counted in metrics, logged only at debug.
      quiet: true,
      handler: async (ctx) => {
        await agents.heartbeat(ctx.param('id'), ctx.body);
        return { status: 200, raw: { contentType: 'application/json; charset=utf-8', payload: heartbeatOk } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/agents/:id/work',
      summary:
        "The agent's work: CSRs to generate (AwaitingCSR jobs of its certificates) and claimed deployment jobs (now Running); with wait, held until some is created or the wait runs out",
      query: WorkQuerySchema,
      response: { schema: WorkSchema },
      access: 'agent.self',
      handler: async (ctx) => {
        const { wait, heartbeat } = ctx.queryParams;
        // A waiting poll whose client leaves stops waiting and claims nothing (a poll that does not wait needs no signal).
        const gone = wait ? new AbortController() : undefined;
        if (gone) ctx.onAbort = () => gone.abort();
        if (ctx.aborted) gone?.abort();
        const answer = await work.work(ctx.param('id'), { waitMs: (wait ?? 0) * 1000, heartbeat: heartbeat === 'true', signal: gone?.signal });
        ctx.onAbort = undefined;
        return { status: 200, json: answer };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/agents/:id/csr',
      summary:
        'Submit a CSR for a certificate this agent serves: issued, stored, and one deployment job per mapped target (201); with an external issuer (ACME) 202: queued, deployment work follows',
      response: {
        status: 201,
        schema: z.union([
          z.object({ certificate_id: z.string(), serial_number: z.string(), not_after: z.string(), deployments: z.number().int() }),
          z.object({ status: z.literal('issuing'), certificate_id: z.string(), job_id: z.string() }),
        ]),
      },
      access: 'agent.self',
      body: AgentCsrSchema,
      handler: async (ctx) => {
        const body = ctx.body;
        const submitted = await work.submitCsr(ctx.principal, ctx.param('id'), body.certificate_id, body.csr_pem);
        if ('jobId' in submitted) return { status: 202, json: { status: 'issuing', certificate_id: submitted.certificateId, job_id: submitted.jobId } };
        const { issued, deployments } = submitted;
        return {
          status: 201,
          json: { certificate_id: issued.certificateId, serial_number: issued.serialNumber, not_after: issued.notAfter.toISOString(), deployments },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/agents/:id/certificates/:cert_id',
      summary: 'The latest PEM chain (leaf + CA) of a certificate this agent serves',
      response: { schema: z.object({ certificate_pem: z.string() }) },
      access: 'agent.self',
      handler: async (ctx) => ({ status: 200, json: { certificate_pem: await work.pemChain(ctx.param('id'), ctx.param('cert_id')) } }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/agents/:id/jobs/:job_id/status',
      summary: 'Report a Running deployment job: Completed, or Failed (retried with backoff while attempts remain)',
      response: { schema: z.object({ id: z.string(), status: z.string(), attempts: z.number().int() }) },
      access: 'agent.self',
      body: JobStatusSchema,
      handler: async (ctx) => {
        const body = ctx.body;
        const job = await work.report(ctx.principal, ctx.param('id'), ctx.param('job_id'), body);
        return {
          status: 200,
          json: pick(job, ['id', 'type', 'certificate_id', 'target_id', 'status', 'attempts', 'max_attempts', 'last_error', 'scheduled_at', 'completed_at']),
        };
      },
    }),
  ];
}
