/**
 * /api/v1/certificates: list (filters, sort, page or keyset cursor, field projection, ETag),
 * create, get, partial update (PUT and PATCH), archive (DELETE), versions and deployments.
 */
import { z } from 'zod';
import { certificateStatuses, type SortColumn } from '../../../domain/certificates.ts';
import { inProgressStatus, isTerminalOrDerived } from '../../../domain/lifecycle.ts';
import { Errors } from '../../../errors.ts';
import type { CertificateService } from '../../../services/certificates/certificates.ts';
import { isQueued, type IssuanceService } from '../../../services/pki/issuance.ts';
import { certificateFields, presentCertificate, presentCertificateVersion } from '../../presenters/certificate.ts';
import { pick } from '../../presenters/row.ts';
import { route, type Handler, type RouteDefinition } from '../../router.ts';
import { pageParams, pageQuery } from '../common/pagination.ts';
import { listEnvelope } from '../common/responses.ts';
import {
  BulkReassignSchema,
  CertificateSchema,
  CertificatesCreateSchema,
  CertificatesCsrSchema,
  CertificatesListSchema,
  IssuedCertificateSchema,
  IssuingSchema,
  CertificatesUpdateSchema,
  type CertificatesUpdateReq,
  CertificateVersionSchema,
  DeploymentTargetSchema,
} from './schema.ts';

const allowedFields = new Set<string>(certificateFields);
const targetFields = ['id', 'name', 'type', 'agent_id', 'config', 'enabled', 'created_at', 'updated_at', 'last_deployment'];

const nonTerminalBuckets = certificateStatuses.filter((s) => !isTerminalOrDerived(s)).map((s) => `certificates/${s}`);

/**
 * The change-feed buckets a list depends on (migrations/0014_change_notifications.sql): one
 * stored status's bucket for a status filter, every status a certificate in progress may have
 * for RenewalInProgress (its open job is announced in its stored status's bucket), all of them
 * without a status filter.
 */
function listBuckets(status: string | undefined): readonly string[] | undefined {
  if (!status) return undefined;
  return status === inProgressStatus ? nonTerminalBuckets : [`certificates/${status}`];
}

/** The `fields=` projection, validated; undefined = all fields. */
function projection(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const fields = raw
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = fields.filter((f) => !allowedFields.has(f));
  if (fields.length === 0 || unknown.length > 0) {
    throw Errors.validation(`fields: unknown field ${JSON.stringify(unknown[0] ?? '')}; allowed: ${certificateFields.join(', ')}`);
  }
  return fields;
}

export function certificateRoutes(deps: { certificates: CertificateService; issuance: IssuanceService }): RouteDefinition[] {
  const { certificates, issuance } = deps;
  const update: Handler<CertificatesUpdateReq> = async (ctx) => ({
    status: 200,
    json: presentCertificate(await certificates.update(ctx.principal, ctx.param('id'), ctx.body)),
  });
  const updateRoute = (method: 'PUT' | 'PATCH'): RouteDefinition =>
    route({
      method,
      path: '/api/v1/certificates/:id',
      summary: `Update a certificate: only the fields sent change; target_ids replaces the mapping${method === 'PATCH' ? ' (same as PUT)' : ''}`,
      response: { schema: CertificateSchema },
      access: 'certificates.write',
      body: CertificatesUpdateSchema,
      handler: update,
    });
  return [
    route({
      method: 'GET',
      path: '/api/v1/certificates',
      summary: 'List certificates: filters, sort, page/per_page or keyset cursor, fields projection',
      query: CertificatesListSchema,
      response: { schema: listEnvelope(CertificateSchema, { cursor: true }) },
      access: 'certificates.read',
      etag: true,
      cache: { buckets: (ctx) => listBuckets(ctx.queryParams.status) },
      handler: async (ctx) => {
        const q = ctx.queryParams;
        const fields = projection(q.fields);
        const sort = q.sort ?? 'created_at';
        const perPage = q.per_page ?? 50;
        const { rows, total, nextCursor } = await certificates.list({
          filter: {
            status: q.status,
            environment: q.environment,
            owner_id: q.owner_id,
            team_id: q.team_id,
            issuer_id: q.issuer_id,
            profile_id: q.profile_id,
            agent_id: q.agent_id,
            expires_before: q.expires_before,
            expires_after: q.expires_after,
            created_after: q.created_after,
            updated_after: q.updated_after,
          },
          sort: sort.replace(/^-/, '') as SortColumn,
          descending: sort.startsWith('-'),
          perPage,
          page: q.page ?? 1,
          cursor: q.cursor,
          withTotal: q.include_total !== 'false',
        });
        const data = rows.map((row) => {
          const full = presentCertificate(row);
          return fields ? pick(full, fields) : full;
        });
        const body: Record<string, unknown> = { data, total, per_page: perPage };
        if (q.cursor === undefined) body.page = q.page ?? 1;
        if (nextCursor) body.next_cursor = nextCursor;
        return { status: 200, json: body };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/certificates',
      summary: 'Create a managed certificate (status Pending); target_ids maps it to deployment targets',
      response: { status: 201, schema: CertificateSchema },
      access: 'certificates.write',
      body: CertificatesCreateSchema,
      handler: async (ctx) => {
        const row = await certificates.create(ctx.principal, ctx.body);
        return { status: 201, headers: { Location: `/api/v1/certificates/${row.id}` }, json: presentCertificate(row) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/certificates/:id',
      summary: 'Get a certificate',
      response: { schema: CertificateSchema },
      access: 'certificates.read',
      etag: true,
      handler: async (ctx) => ({ status: 200, json: presentCertificate(await certificates.get(ctx.param('id'))) }),
    }),
    updateRoute('PUT'),
    updateRoute('PATCH'),
    route({
      method: 'DELETE',
      path: '/api/v1/certificates/:id',
      summary: 'Archive a certificate (status Archived; idempotent). Archived certificates no longer change',
      response: { status: 204 },
      access: 'certificates.write',
      handler: async (ctx) => {
        await certificates.archive(ctx.principal, ctx.param('id'));
        return { status: 204 };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/certificates/bulk-reassign',
      summary: 'Give the listed certificates a new owner (and team), set-based; Archived ones and those already assigned are skipped',
      response: {
        schema: z.object({
          total_matched: z.number().int(),
          total_reassigned: z.number().int(),
          total_skipped: z.number().int().describe('Archived, or already with this owner and team'),
          total_failed: z.number().int(),
        }),
      },
      access: 'certificates.write',
      body: BulkReassignSchema,
      handler: async (ctx) => ({ status: 200, json: await certificates.bulkReassign(ctx.principal, ctx.body) }),
    }),
    route({
      method: 'POST',
      path: '/api/v1/certificates/:id/csr',
      summary:
        'Issue from your own CSR: verifies it, checks the profile, signs, stores a version, activates the certificate (201); with an external issuer (ACME) 202: queued for the CA',
      response: { status: 201, schema: z.union([IssuedCertificateSchema, IssuingSchema]) },
      access: 'certificates.issue',
      body: CertificatesCsrSchema,
      handler: async (ctx) => {
        const issued = await issuance.issueFromCsr(ctx.principal, ctx.param('id'), ctx.body.csr_pem);
        if (isQueued(issued)) {
          return {
            status: 202,
            headers: { Location: `/api/v1/jobs/${issued.jobId}` },
            json: { status: 'issuing', certificate_id: issued.certificateId, job_id: issued.jobId },
          };
        }
        return {
          status: 201,
          headers: { Location: `/api/v1/certificates/${issued.certificateId}/versions` },
          json: {
            certificate_id: issued.certificateId,
            version_id: issued.versionId,
            serial_number: issued.serialNumber,
            not_before: issued.notBefore.toISOString(),
            not_after: issued.notAfter.toISOString(),
            fingerprint_sha256: issued.fingerprint,
            certificate_pem: issued.certificatePem,
            chain_pem: issued.chainPem,
            pem_chain: `${issued.certificatePem}${issued.chainPem}`,
          },
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/certificates/:id/versions',
      summary: 'Issued versions of a certificate, newest first',
      query: pageQuery,
      response: { schema: listEnvelope(CertificateVersionSchema) },
      access: 'certificates.read',
      etag: true,
      handler: async (ctx) => {
        const { page, perPage } = pageParams(ctx.query);
        const { rows, total } = await certificates.versions(ctx.param('id'), perPage, page);
        return { status: 200, json: { data: rows.map(presentCertificateVersion), total, page, per_page: perPage } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/certificates/:id/deployments',
      summary: "Deployment targets this certificate is mapped to, each with its latest deployment (status, attempts, error, time, the connector's report)",
      response: { schema: z.object({ data: z.array(DeploymentTargetSchema), total: z.number().int() }) },
      access: 'certificates.read',
      etag: true,
      handler: async (ctx) => {
        const targets = await certificates.deployments(ctx.param('id'));
        return { status: 200, json: { data: targets.map((t) => pick(t, targetFields)), total: targets.length } };
      },
    }),
  ];
}
