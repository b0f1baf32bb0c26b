import { z } from 'zod';

const metadata = {
  hostname: z.string().max(253).optional(),
  os: z.string().max(64).optional(),
  architecture: z.string().max(64).optional(),
  ip_address: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional(),
  version: z.string().max(64).optional(),
};

export const AgentsRegisterSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may contain letters, digits and . _ -'),
  ...metadata,
});
export type AgentsRegisterReq = z.infer<typeof AgentsRegisterSchema>;

export const HeartbeatSchema = z.strictObject(metadata);
export type HeartbeatReq = z.infer<typeof HeartbeatSchema>;

export const AgentsListSchema = z.strictObject({
  per_page: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});
export type AgentsListReq = z.infer<typeof AgentsListSchema>;

export const AgentsRetireSchema = z.strictObject({ reason: z.string().max(500).optional() });

const at = z.iso.datetime({ offset: true });
export const AgentSchema = z.object({
  id: z.string(),
  name: z.string(),
  hostname: z.string(),
  status: z.enum(['Online', 'Offline', 'Degraded']),
  os: z.string(),
  architecture: z.string(),
  ip_address: z.string(),
  version: z.string(),
  registered_at: at,
  last_heartbeat_at: at.nullable(),
  retired_at: at.nullable(),
  retired_reason: z.string().nullable(),
});
export const AgentRegisteredSchema = AgentSchema.extend({ api_key: z.string().describe('shown once; bound to this agent') });

export const AgentCsrSchema = z.strictObject({
  certificate_id: z.string().min(1).max(64),
  csr_pem: z.string().min(1).max(65_536),
});

const shortText = z.string().max(2000);

/** What a deployment connector did on the host (src/agent/connectors/deploy.ts builds it). */
export const DeploymentReportSchema = z.strictObject({
  connector: z.enum(['file', 'nginx', 'apache', 'haproxy']),
  files: z.array(z.strictObject({ path: z.string().max(4096), sha256: z.string().regex(/^[0-9a-f]{64}$/), changed: z.boolean() })).max(16),
  commands: z
    .array(
      z.strictObject({
        argv: z.array(z.string().max(4096)).max(64),
        exit_code: z.number().int().nullable().describe('null when the command did not run to an exit (not found, timed out, signalled)'),
        duration_ms: z.number().nonnegative(),
        output: shortText.describe("the command's last lines of output"),
      }),
    )
    .max(16),
  runtime_api: z
    .strictObject({ socket: z.string().max(4096), responses: z.array(shortText).max(8) })
    .optional()
    .describe("HAProxy's runtime API: the socket and its answer to each command"),
  served: z
    .strictObject({
      address: z.string().max(300),
      server_name: z.string().max(253).nullable(),
      serial: z.string().max(128).nullable().describe('the leaf served after the reload (lowercase hex); null when no handshake succeeded'),
      matches: z.boolean(),
      attempts: z.number().int().nonnegative(),
      error: shortText.optional(),
    })
    .optional()
    .describe('the post-deploy TLS check, when the target has one'),
  rolled_back: z.boolean().describe('the previous files were restored'),
  duration_ms: z.number().nonnegative(),
});

export const JobStatusSchema = z.strictObject({
  status: z.enum(['Completed', 'Failed']),
  /** Why a deployment failed (stored and audited, truncated to 500 characters in the audit). */
  error: z.string().max(4000).optional(),
  /** What the connector did; stored with the job and served on /certificates/{id}/deployments. */
  report: DeploymentReportSchema.optional(),
});

export const WorkSchema = z.object({
  csr: z.array(
    z.object({
      job_id: z.string().nullable().describe('null for an Enrollment: an issued certificate newly mapped to this agent, which holds no key for it yet'),
      type: z.enum(['Issuance', 'Renewal', 'Enrollment']),
      certificate_id: z.string(),
      common_name: z.string(),
      sans: z.array(z.string()),
      allowed_key_algorithms: z.array(z.object({ algorithm: z.string(), min_size: z.number().optional() })).nullable(),
    }),
  ),
  deployments: z.array(
    z.object({
      job_id: z.string(),
      certificate_id: z.string(),
      target_id: z.string(),
      target_type: z.string(),
      target_config: z.record(z.string(), z.unknown()),
      attempts: z.number().int(),
    }),
  ),
  heartbeat: z.literal('recorded').optional().describe('present when the poll asked for a heartbeat (?heartbeat=true) and it was recorded'),
});

/** Longest a work poll may wait: below the 60 s idle timeout of common proxies and load balancers. */
export const maxWorkWaitSeconds = 55;

export const WorkQuerySchema = z.strictObject({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(maxWorkWaitSeconds)
    .optional()
    .describe('seconds to wait for work when there is none now (answered as soon as some is created, on any replica); default 0'),
  heartbeat: z.enum(['true', 'false']).optional().describe('true: the poll also records a heartbeat (no metadata)'),
});
