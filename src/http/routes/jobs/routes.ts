/** Renewal requests and /api/v1/jobs: list (filters, keyset cursor, ETag), get, cancel. */
import { z } from 'zod';
import { jobStatuses, jobTypes, type JobRow } from '../../../domain/jobs.ts';
import type { JobService } from '../../../services/jobs.ts';
import { pick } from '../../presenters/row.ts';
import { route, type RouteDefinition } from '../../router.ts';
import { criteriaFields, criterionRequired, hasCriterion } from '../common/criteria.ts';
import { refId } from '../common/fields.ts';
import { listEnvelope } from '../common/responses.ts';

const fields = [
  'id',
  'type',
  'certificate_id',
  'target_id',
  'agent_id',
  'parent_job_id',
  'status',
  'attempts',
  'max_attempts',
  'last_error',
  'scheduled_at',
  'started_at',
  'completed_at',
  'created_at',
  'updated_at',
];
const present = (j: JobRow) => pick(j, fields);
const at = z.iso.datetime({ offset: true });

export const JobSchema = z.object({
  id: z.string(),
  type: z.enum(jobTypes),
  certificate_id: z.string(),
  target_id: z.string().nullable(),
  agent_id: z.string().nullable(),
  parent_job_id: z.string().nullable().describe('Signing jobs (a CSR an external CA signs): the issuance/renewal job answered'),
  status: z.enum(jobStatuses),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  last_error: z.string().nullable(),
  scheduled_at: at,
  started_at: at.nullable(),
  completed_at: at.nullable(),
  created_at: at,
  updated_at: at,
});

export const JobsListSchema = z.strictObject({
  status: z.enum(jobStatuses).optional(),
  type: z.enum(jobTypes).optional(),
  certificate_id: refId.optional(),
  agent_id: refId.optional(),
  per_page: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});

export const BulkRenewSchema = z.strictObject(criteriaFields).refine(hasCriterion, criterionRequired);

export function jobRoutes(deps: { jobs: JobService }): RouteDefinition[] {
  const { jobs } = deps;
  return [
    route({
      method: 'POST',
      path: '/api/v1/certificates/bulk-renew',
      summary:
        'Renew every certificate matching the criteria (set-based, no row cap): one AwaitingCSR job each; Archived, Revoked and Expired ones, and those already RenewalInProgress (an open job), are skipped',
      response: {
        schema: z.object({
          total_matched: z.number().int(),
          total_enqueued: z.number().int(),
          total_skipped: z.number().int().describe('not renewable, or a renewal is already open'),
          total_failed: z.number().int(),
        }),
      },
      access: 'certificates.issue',
      body: BulkRenewSchema,
      handler: async (ctx) => ({ status: 200, json: await jobs.bulkRenew(ctx.principal, ctx.body) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/certificates/:id/renew',
      summary: 'Request renewal: enqueues one AwaitingCSR job (409 if one is open); the CSR endpoint completes it',
      response: { status: 202, schema: z.object({ status: z.literal('renewal_triggered'), job_id: z.string(), job: JobSchema }) },
      access: 'certificates.issue',
      handler: async (ctx) => {
        const job = await jobs.renew(ctx.principal, ctx.param('id'));
        return { status: 202, headers: { Location: `/api/v1/jobs/${job.id}` }, json: { status: 'renewal_triggered', job_id: job.id, job: present(job) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/jobs',
      summary: 'List jobs by id: filters status, type, certificate_id, agent_id; keyset cursor',
      query: JobsListSchema,
      response: { schema: listEnvelope(JobSchema, { cursor: true, page: false }).omit({ total: true }) },
      access: 'jobs.read',
      etag: true,
      handler: async (ctx) => {
        const { per_page, cursor, ...filter } = ctx.queryParams;
        const perPage = per_page ?? 50;
        const { rows, nextCursor } = await jobs.list(filter, perPage, cursor);
        return { status: 200, json: { data: rows.map(present), per_page: perPage, ...(nextCursor ? { next_cursor: nextCursor } : {}) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/jobs/:id',
      summary: 'Get a job',
      response: { schema: JobSchema },
      access: 'jobs.read',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: present(await jobs.get(ctx.param('id'))) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/jobs/:id/cancel',
      summary: 'Cancel a Pending, AwaitingCSR or Running job (409 otherwise)',
      response: { schema: JobSchema },
      access: 'jobs.manage',
      handler: async (ctx) => ({ status: 200, json: present(await jobs.cancel(ctx.principal, ctx.param('id'))) }),
    }),
  ];
}
