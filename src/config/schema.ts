/**
 * The environment certfleet reads, as one zod schema. Every variable is named here and
 * nowhere else in src/ (test/config/environment-doc.test.ts keeps docs/environment.md in
 * step with the keys of `environmentSchema`).
 *
 * Input type: `z.input<typeof environmentSchema>` (strings from the environment).
 * Resolved type: `Config` (typed, defaults applied).
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { logLevels } from './agent.ts';
import { ConfigError } from './errors.ts';
import { TrustedProxies } from '../http/client-address.ts';

export { ConfigError };

const MiB = 1024 * 1024;

/** An integer variable, given as a decimal string. Empty strings count as unset. */
function integer(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

function optionalNonEmpty<T extends z.ZodTypeAny>(schema: T) {
  // An exported-but-empty variable (FOO=) means "not set", as in most twelve-factor servers.
  return z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
}

function withDefault<T extends z.ZodTypeAny>(schema: T, fallback: string) {
  return z.preprocess((v) => (v === undefined || v === '' ? fallback : v), schema);
}

export const environmentSchema = z.object({
  /** Address the HTTP server binds; default 127.0.0.1 (loopback only). */
  CERTFLEET_HOST: withDefault(z.string().trim().min(1), '127.0.0.1'),
  /** TCP port; default 8080. 0 picks a free port (logged at start-up). */
  CERTFLEET_PORT: withDefault(integer(0, 65535), '8080'),
  /** Directory for the embedded PostgreSQL cluster and other local state; default ./.certfleet */
  CERTFLEET_DATA_DIR: withDefault(z.string().trim().min(1), './.certfleet'),
  /** PostgreSQL connection string; unset = start an embedded PostgreSQL in CERTFLEET_DATA_DIR. */
  DATABASE_URL: optionalNonEmpty(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')),
  /** Port for the embedded PostgreSQL on 127.0.0.1; default: a free port chosen at start. */
  CERTFLEET_EMBEDDED_PG_PORT: optionalNonEmpty(integer(1, 65535)),
  /** Size of the pg connection pool; default 50. */
  CERTFLEET_DATABASE_MAX_CONNS: withDefault(integer(1, 1000), '50'),
  /** Largest accepted request body in bytes; default 1 MiB. Larger bodies get 413. */
  CERTFLEET_MAX_BODY_BYTES: withDefault(integer(1, 64 * MiB), String(MiB)),
  /** pino level; default info. */
  CERTFLEET_LOG_LEVEL: withDefault(z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }), 'info'),
  /** Bootstraps (or rotates) the admin API key named "bootstrap-admin"; at least 24 characters. */
  CERTFLEET_ADMIN_API_KEY: optionalNonEmpty(z.string().min(24, 'must be at least 24 characters')),
  /** Bearer token required on GET /metrics; unset = /metrics is open (bind to loopback). */
  CERTFLEET_METRICS_TOKEN: optionalNonEmpty(z.string().min(16, 'must be at least 16 characters')),
  /** Certificates and agents are counted for /metrics at most this often (a grouped scan); default 60. */
  CERTFLEET_FLEET_METRICS_INTERVAL_SECONDS: withDefault(integer(1, 3600), '60'),
  /** HTTP engine: auto (uWebSockets.js when its binary loads, else node:http), uws (refuse to start without it), node. */
  CERTFLEET_HTTP_ENGINE: withDefault(z.enum(['auto', 'uws', 'node'], { error: 'must be one of auto, uws, node' }), 'auto'),
  /** PEM certificate chain for HTTPS (re-read on SIGHUP); set together with CERTFLEET_TLS_KEY_PATH. */
  CERTFLEET_TLS_CERT_PATH: optionalNonEmpty(z.string()),
  /** PEM private key for HTTPS; set together with CERTFLEET_TLS_CERT_PATH. */
  CERTFLEET_TLS_KEY_PATH: optionalNonEmpty(z.string()),
  /** 32-byte key (base64 or hex) that encrypts CA private keys at rest; default: generated into the data dir. */
  CERTFLEET_ENCRYPTION_KEY: optionalNonEmpty(z.string().refine((v) => decodeKey(v) !== undefined, 'must be 32 bytes as 64 hex characters or base64')),
  /** PEM CA certificate for local issuers (with CERTFLEET_CA_KEY_PATH); default: a generated root per issuer. */
  CERTFLEET_CA_CERT_PATH: optionalNonEmpty(z.string()),
  /** PEM private key of CERTFLEET_CA_CERT_PATH. */
  CERTFLEET_CA_KEY_PATH: optionalNonEmpty(z.string()),
  /** Worker threads for CPU-heavy work; default: cores - 1, at least 1. */
  CERTFLEET_WORKER_THREADS: optionalNonEmpty(integer(1, 256)),
  /** Tasks that may wait for a worker before the API answers 503; default 1000. */
  CERTFLEET_WORKER_QUEUE_MAX: withDefault(integer(1, 1_000_000), '1000'),
  /** Base URL clients reach this server at (CRL distribution points); default http://HOST:PORT. */
  CERTFLEET_PUBLIC_URL: optionalNonEmpty(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /**
   * Proxies whose X-Forwarded-For names the client (per-IP limits): comma-separated IP addresses
   * and CIDR subnets; unset: none, the TCP peer is the client.
   */
  CERTFLEET_TRUSTED_PROXIES: optionalNonEmpty(
    z.string().superRefine((v, ctx) => {
      for (const entry of v.split(',')) {
        const problem = TrustedProxies.problemWith(entry.trim());
        if (problem) ctx.addIssue({ code: 'custom', message: `must be comma-separated IP addresses or CIDR subnets: ${problem}` });
      }
    }),
  ),
  /** Secret agents present to register (POST /api/v1/agents); unset = registration disabled. */
  CERTFLEET_AGENT_BOOTSTRAP_TOKEN: optionalNonEmpty(z.string().min(24, 'must be at least 24 characters')),
  /** Longest wait, in ms, before a heartbeat batch is written; default 2. */
  CERTFLEET_HEARTBEAT_FLUSH_MS: withDefault(integer(0, 1000), '2'),
  /** Heartbeats written per batch at most; default 5000. */
  CERTFLEET_HEARTBEAT_BATCH_MAX: withDefault(integer(1, 100_000), '5000'),
  /** Heartbeat batches in flight at once (agents partitioned among them); default 1. */
  CERTFLEET_HEARTBEAT_LANES: withDefault(integer(1, 64), '1'),
  /** API keys kept in the authentication cache (about 400 bytes each); default 1,000,000. */
  CERTFLEET_AUTH_CACHE_ENTRIES: withDefault(integer(1_000, 50_000_000), '1000000'),
  /** Unknown bearer tokens remembered for 5 s (so a flood of random tokens stays bounded in memory); default 10,000. */
  CERTFLEET_AUTH_NEGATIVE_CACHE_ENTRIES: withDefault(integer(100, 1_000_000), '10000'),
  /** Seconds without a heartbeat after which an agent is marked Offline; default 300. */
  CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS: withDefault(integer(10, 86_400), '300'),
  /** Seconds between renewal sweeps (leader only); default 3600. */
  CERTFLEET_RENEWAL_SWEEP_INTERVAL_SECONDS: withDefault(integer(10, 86_400), '3600'),
  /** Where expiry alerts are POSTed (JSON); unset = notifications are only listed by the API. */
  CERTFLEET_ALERT_WEBHOOK_URL: optionalNonEmpty(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /** Delivery attempts before an alert is dead-lettered; default 5. */
  CERTFLEET_ALERT_MAX_ATTEMPTS: withDefault(integer(1, 20), '5'),
  /** Seconds between expiry-alert runs (leader only); default 300. */
  CERTFLEET_EXPIRY_ALERTS_INTERVAL_SECONDS: withDefault(integer(5, 86_400), '300'),
  /** Seconds a deployment job may stay Running without a report before it is requeued; default 600. */
  CERTFLEET_JOB_RUNNING_TIMEOUT_SECONDS: withDefault(integer(30, 86_400), '600'),
  /** Seconds between job-timeout checks (leader only); default 60. */
  CERTFLEET_JOB_TIMEOUT_INTERVAL_SECONDS: withDefault(integer(5, 3_600), '60'),
  /** Milliseconds between leader-lock attempts (and checks while leading); failover within two; default 5000. */
  CERTFLEET_LEADER_RETRY_MS: withDefault(integer(100, 60_000), '5000'),
  /** Seconds between CRL refresh runs (leader only; stored CRLs are rebuilt at half of their 1 h refresh age); default 600. */
  CERTFLEET_CRL_REFRESH_INTERVAL_SECONDS: withDefault(integer(10, 86_400), '600'),
  /** Server-side jobs (CSRs an external CA signs) in flight at once on each replica; default 25. */
  CERTFLEET_RENEWAL_CONCURRENCY: withDefault(integer(1, 1_000), '25'),
  /** Seconds between job-processor ticks (a job queued on this replica starts at once); default 5. */
  CERTFLEET_JOB_PROCESSOR_INTERVAL_SECONDS: withDefault(integer(1, 3_600), '5'),
  /** Longest wait for one order at an external CA, seconds, unless its issuer sets async_poll_max_wait_seconds; default 600. */
  CERTFLEET_ASYNC_POLL_MAX_WAIT_SECONDS: optionalNonEmpty(integer(1, 86_400)),
  /** Seconds between agent-health checks; default 30. */
  CERTFLEET_AGENT_HEALTH_INTERVAL_SECONDS: withDefault(integer(1, 3_600), '30'),
  /** Audit exports (each holds a database cursor on a pool of its own) running at once on a replica; 2 per key at most; default 4. */
  CERTFLEET_EXPORT_CONCURRENCY: withDefault(integer(1, 64), '4'),
  /** A streamed response whose client accepts nothing for this long is cut off (its cursor freed); default 30000. */
  CERTFLEET_STREAM_STALL_TIMEOUT_MS: withDefault(integer(100, 600_000), '30000'),
  /** Seconds an ACME nonce stays redeemable; default 1800. */
  CERTFLEET_ACME_NONCE_TTL_SECONDS: withDefault(integer(60, 86_400), '1800'),
  /** Seconds between ACME GC runs (leader only): spent nonces past their expiry are deleted; default 60. */
  CERTFLEET_ACME_GC_INTERVAL_SECONDS: withDefault(integer(5, 86_400), '60'),
  /** true: new ACME accounts must carry an External Account Binding; default false. */
  CERTFLEET_ACME_EAB_REQUIRED: withDefault(z.enum(['true', 'false'], { error: 'must be true or false' }), 'false'),
  /** New ACME accounts one IP address may create per hour (cluster-wide); 0: no limit; default 300. */
  CERTFLEET_ACME_RATE_LIMIT_NEW_ACCOUNTS_PER_IP_PER_HOUR: withDefault(integer(0, 1_000_000), '300'),
  /** ACME key changes one account may make per hour (cluster-wide); 0: no limit; default 10. */
  CERTFLEET_ACME_RATE_LIMIT_KEY_CHANGES_PER_ACCOUNT_PER_HOUR: withDefault(integer(0, 1_000_000), '10'),
  /** New ACME orders one account may place per hour (cluster-wide), renewals with ARI replaces exempt; 0: no limit; default 300. */
  CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR: withDefault(integer(0, 1_000_000), '300'),
  /** Failed ACME validations of one name by one account per hour (cluster-wide); then that account's orders for it wait; 0: no limit; default 5. */
  CERTFLEET_ACME_RATE_LIMIT_FAILED_VALIDATIONS_PER_IDENTIFIER_PER_HOUR: withDefault(integer(0, 1_000_000), '5'),
  /** ACME orders one account may have pending (awaiting validation) at once, renewals exempt; 0: no limit; default 300. */
  CERTFLEET_ACME_MAX_PENDING_ORDERS_PER_ACCOUNT: withDefault(integer(0, 1_000_000), '300'),
  /** The profile (name or id) of ACME orders that name none; unset: the only offered profile, if exactly one. */
  CERTFLEET_ACME_DEFAULT_PROFILE: optionalNonEmpty(z.string().max(255)),
  /** Seconds a new ACME order and its authorizations may wait to be finalized; default 86400. */
  CERTFLEET_ACME_ORDER_TTL_SECONDS: withDefault(integer(300, 604_800), '86400'),
  /** Seconds ACME orders that expired without a certificate are kept before the ACME GC deletes them; default 604800. */
  CERTFLEET_ACME_ORDER_RETENTION_SECONDS: withDefault(integer(0, 31_536_000), '604800'),
  /** Port ACME http-01 validation requests go to; default 80 (RFC 8555 8.3). */
  CERTFLEET_ACME_HTTP01_PORT: withDefault(integer(1, 65_535), '80'),
  /** Port ACME tls-alpn-01 validation handshakes go to; default 443 (RFC 8737). */
  CERTFLEET_ACME_TLSALPN01_PORT: withDefault(integer(1, 65_535), '443'),
  /** host:port of the DNS server ACME validation asks (A, AAAA, TXT); unset: the system resolver. */
  CERTFLEET_ACME_DNS_RESOLVER: optionalNonEmpty(
    z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:]+\])(:\d{1,5})?$/, 'must be an IP address with an optional :port'),
  ),
  /** true: ACME validation may connect to loopback addresses (labs and tests); default false. */
  CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK: withDefault(z.enum(['true', 'false'], { error: 'must be true or false' }), 'false'),
  /** Seconds one ACME challenge validation may take before it fails; default 10. */
  CERTFLEET_ACME_VALIDATION_TIMEOUT_SECONDS: withDefault(integer(1, 120), '10'),
  /** ACME challenge validations running at once on each replica (50 times as many may wait); default 20. */
  CERTFLEET_ACME_VALIDATION_CONCURRENCY: withDefault(integer(1, 1_000), '20'),
  /** Retry-After of ACME renewal-info answers, seconds (RFC 9773 4.3); default 21600. */
  CERTFLEET_ACME_RENEWAL_INFO_RETRY_AFTER_SECONDS: withDefault(integer(60, 604_800), '21600'),
  /** ACME directory meta.termsOfService; unset: none advertised. */
  CERTFLEET_ACME_TERMS_OF_SERVICE_URL: optionalNonEmpty(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /** ACME directory meta.website; unset: none advertised. */
  CERTFLEET_ACME_WEBSITE_URL: optionalNonEmpty(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /** ACME directory meta.caaIdentities: comma-separated domain names; unset: none advertised. */
  CERTFLEET_ACME_CAA_IDENTITIES: optionalNonEmpty(
    z.string().refine((v) => v.split(',').every((d) => /^[A-Za-z0-9.-]{1,253}$/.test(d.trim())), 'must be comma-separated domain names'),
  ),
  /** Memory for cached list responses, MiB (0: no response cache); default 64. */
  CERTFLEET_RESPONSE_CACHE_MB: withDefault(integer(0, 4_096), '64'),
  /** Seconds between folds of the certificate count deltas (leader only); default 10. */
  CERTFLEET_COUNT_COMPACTION_INTERVAL_SECONDS: withDefault(integer(1, 3_600), '10'),
  /** Seconds between sweeps that chain audit events left in the outbox (every replica); default 5. */
  CERTFLEET_AUDIT_CHAIN_INTERVAL_SECONDS: withDefault(integer(1, 3_600), '5'),
  /** true: add the demo inventory at serve start (idempotent); default false. */
  CERTFLEET_DEMO_SEED: withDefault(z.enum(['true', 'false'], { error: 'must be true or false' }), 'false'),
  /** Upper bound on graceful shutdown in milliseconds; default 10000. */
  CERTFLEET_SHUTDOWN_TIMEOUT_MS: withDefault(integer(100, 600_000), '10000'),
});

export type EnvironmentInput = z.input<typeof environmentSchema>;

/** A 32-byte key from 64 hex characters or base64; undefined when it is neither. */
export function decodeKey(value: string): Buffer | undefined {
  const trimmed = value.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

/** Variables whose values must never appear in an error message or a log line. */
const secretVariables = new Set([
  'DATABASE_URL',
  'CERTFLEET_ADMIN_API_KEY',
  'CERTFLEET_METRICS_TOKEN',
  'CERTFLEET_ENCRYPTION_KEY',
  'CERTFLEET_AGENT_BOOTSTRAP_TOKEN',
]);

/** Names of every variable the schema reads, in declaration order (deprecated aliases: deprecatedAliases). */
export const environmentVariableNames: readonly string[] = Object.keys(environmentSchema.shape);

/**
 * Names kept working for one release after a rename (the duration variables gained their unit):
 * old name -> new name. Setting the old one works and logs a deprecation at start; setting
 * both to different values is an error.
 */
export const deprecatedAliases: Readonly<Record<string, string>> = {
  CERTFLEET_AGENT_OFFLINE_AFTER: 'CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS',
  CERTFLEET_AGENT_HEALTH_INTERVAL: 'CERTFLEET_AGENT_HEALTH_INTERVAL_SECONDS',
  CERTFLEET_RENEWAL_SWEEP_INTERVAL: 'CERTFLEET_RENEWAL_SWEEP_INTERVAL_SECONDS',
  CERTFLEET_EXPIRY_ALERTS_INTERVAL: 'CERTFLEET_EXPIRY_ALERTS_INTERVAL_SECONDS',
  CERTFLEET_JOB_RUNNING_TIMEOUT: 'CERTFLEET_JOB_RUNNING_TIMEOUT_SECONDS',
  CERTFLEET_JOB_TIMEOUT_INTERVAL: 'CERTFLEET_JOB_TIMEOUT_INTERVAL_SECONDS',
  CERTFLEET_CRL_REFRESH_INTERVAL: 'CERTFLEET_CRL_REFRESH_INTERVAL_SECONDS',
  CERTFLEET_JOB_PROCESSOR_INTERVAL: 'CERTFLEET_JOB_PROCESSOR_INTERVAL_SECONDS',
};

/** The variables as read (every name of the schema, deprecated aliases folded into their new names). */
function pickVariables(env: NodeJS.ProcessEnv): { picked: Record<string, string | undefined>; deprecations: string[] } {
  const picked: Record<string, string | undefined> = {};
  for (const name of environmentVariableNames) picked[name] = env[name];
  const deprecations: string[] = [];
  for (const [old, current] of Object.entries(deprecatedAliases)) {
    const value = env[old];
    if (value === undefined || value === '') continue;
    if (picked[current] !== undefined && picked[current] !== '' && picked[current] !== value) {
      throw new ConfigError([`${old} and ${current}: ${old} is the deprecated name of ${current}; set only ${current}`]);
    }
    picked[current] = value;
    deprecations.push(`${old} is deprecated: rename it to ${current}`);
  }
  return { picked, deprecations };
}

/** Resolved configuration: the only shape the rest of src/ sees (inferred from `resolve`). */
export type Config = ReturnType<typeof resolve>;

export function loadConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Config {
  const { picked, deprecations } = pickVariables(env);
  const parsed = environmentSchema.safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const shown = secretVariables.has(name) ? '' : ` (got ${JSON.stringify(picked[name] ?? '')})`;
      return `${name}: ${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  return resolve(parsed.data, cwd, deprecations);
}

/** The schema's output as the server uses it: names in camelCase, defaults and pairs resolved. */
function resolve(e: z.output<typeof environmentSchema>, cwd: string, deprecations: string[]) {
  const certPath = e.CERTFLEET_TLS_CERT_PATH;
  const keyPath = e.CERTFLEET_TLS_KEY_PATH;
  const caCert = e.CERTFLEET_CA_CERT_PATH;
  const caKey = e.CERTFLEET_CA_KEY_PATH;
  if ((caCert === undefined) !== (caKey === undefined)) {
    throw new ConfigError(['CERTFLEET_CA_CERT_PATH and CERTFLEET_CA_KEY_PATH: set both to sign with your own CA, or neither']);
  }
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new ConfigError(['CERTFLEET_TLS_CERT_PATH and CERTFLEET_TLS_KEY_PATH: set both to serve HTTPS, or neither']);
  }
  return {
    host: e.CERTFLEET_HOST,
    port: e.CERTFLEET_PORT,
    dataDir: path.resolve(cwd, e.CERTFLEET_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    embeddedPgPort: e.CERTFLEET_EMBEDDED_PG_PORT,
    databaseMaxConns: e.CERTFLEET_DATABASE_MAX_CONNS,
    maxBodyBytes: e.CERTFLEET_MAX_BODY_BYTES,
    logLevel: e.CERTFLEET_LOG_LEVEL,
    adminApiKey: e.CERTFLEET_ADMIN_API_KEY,
    metricsToken: e.CERTFLEET_METRICS_TOKEN,
    fleetMetricsIntervalSeconds: e.CERTFLEET_FLEET_METRICS_INTERVAL_SECONDS,
    httpEngine: e.CERTFLEET_HTTP_ENGINE,
    tls: certPath && keyPath ? { certPath, keyPath } : undefined,
    shutdownTimeoutMs: e.CERTFLEET_SHUTDOWN_TIMEOUT_MS,
    demoSeed: e.CERTFLEET_DEMO_SEED === 'true',
    encryptionKey: e.CERTFLEET_ENCRYPTION_KEY ? decodeKey(e.CERTFLEET_ENCRYPTION_KEY) : undefined,
    caFiles: caCert && caKey ? { certPath: caCert, keyPath: caKey } : undefined,
    workerThreads: e.CERTFLEET_WORKER_THREADS ?? Math.max(1, os.availableParallelism() - 1),
    workerQueueMax: e.CERTFLEET_WORKER_QUEUE_MAX,
    agentBootstrapToken: e.CERTFLEET_AGENT_BOOTSTRAP_TOKEN,
    heartbeatFlushMs: e.CERTFLEET_HEARTBEAT_FLUSH_MS,
    heartbeatBatchMax: e.CERTFLEET_HEARTBEAT_BATCH_MAX,
    authCacheEntries: e.CERTFLEET_AUTH_CACHE_ENTRIES,
    authNegativeCacheEntries: e.CERTFLEET_AUTH_NEGATIVE_CACHE_ENTRIES,
    heartbeatLanes: e.CERTFLEET_HEARTBEAT_LANES,
    agentOfflineAfterSeconds: e.CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS,
    agentHealthIntervalSeconds: e.CERTFLEET_AGENT_HEALTH_INTERVAL_SECONDS,
    leaderRetryMs: e.CERTFLEET_LEADER_RETRY_MS,
    renewalSweepIntervalSeconds: e.CERTFLEET_RENEWAL_SWEEP_INTERVAL_SECONDS,
    alertWebhookUrl: e.CERTFLEET_ALERT_WEBHOOK_URL,
    jobRunningTimeoutSeconds: e.CERTFLEET_JOB_RUNNING_TIMEOUT_SECONDS,
    alertMaxAttempts: e.CERTFLEET_ALERT_MAX_ATTEMPTS,
    expiryAlertsIntervalSeconds: e.CERTFLEET_EXPIRY_ALERTS_INTERVAL_SECONDS,
    crlRefreshIntervalSeconds: e.CERTFLEET_CRL_REFRESH_INTERVAL_SECONDS,
    renewalConcurrency: e.CERTFLEET_RENEWAL_CONCURRENCY,
    jobTimeoutIntervalSeconds: e.CERTFLEET_JOB_TIMEOUT_INTERVAL_SECONDS,
    jobProcessorIntervalSeconds: e.CERTFLEET_JOB_PROCESSOR_INTERVAL_SECONDS,
    asyncPollMaxWaitSeconds: e.CERTFLEET_ASYNC_POLL_MAX_WAIT_SECONDS,
    auditChainIntervalSeconds: e.CERTFLEET_AUDIT_CHAIN_INTERVAL_SECONDS,
    countCompactionIntervalSeconds: e.CERTFLEET_COUNT_COMPACTION_INTERVAL_SECONDS,
    responseCacheMb: e.CERTFLEET_RESPONSE_CACHE_MB,
    exportConcurrency: e.CERTFLEET_EXPORT_CONCURRENCY,
    streamStallTimeoutMs: e.CERTFLEET_STREAM_STALL_TIMEOUT_MS,
    /** CERTFLEET_PUBLIC_URL as set (not the default): ACME builds its URLs from it, else from each request's Host. */
    publicUrlConfigured: e.CERTFLEET_PUBLIC_URL?.replace(/\/+$/, ''),
    acmeNonceTtlSeconds: e.CERTFLEET_ACME_NONCE_TTL_SECONDS,
    acmeGcIntervalSeconds: e.CERTFLEET_ACME_GC_INTERVAL_SECONDS,
    acmeEabRequired: e.CERTFLEET_ACME_EAB_REQUIRED === 'true',
    acmeRateLimits: {
      newAccountsPerIpPerHour: e.CERTFLEET_ACME_RATE_LIMIT_NEW_ACCOUNTS_PER_IP_PER_HOUR,
      keyChangesPerAccountPerHour: e.CERTFLEET_ACME_RATE_LIMIT_KEY_CHANGES_PER_ACCOUNT_PER_HOUR,
      newOrdersPerAccountPerHour: e.CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR,
      failedValidationsPerIdentifierPerHour: e.CERTFLEET_ACME_RATE_LIMIT_FAILED_VALIDATIONS_PER_IDENTIFIER_PER_HOUR,
    },
    acmeMaxPendingOrdersPerAccount: e.CERTFLEET_ACME_MAX_PENDING_ORDERS_PER_ACCOUNT,
    acmeDefaultProfile: e.CERTFLEET_ACME_DEFAULT_PROFILE,
    acmeOrderTtlSeconds: e.CERTFLEET_ACME_ORDER_TTL_SECONDS,
    acmeOrderRetentionSeconds: e.CERTFLEET_ACME_ORDER_RETENTION_SECONDS,
    acmeValidators: {
      http01Port: e.CERTFLEET_ACME_HTTP01_PORT,
      tlsAlpn01Port: e.CERTFLEET_ACME_TLSALPN01_PORT,
      dnsResolver: e.CERTFLEET_ACME_DNS_RESOLVER,
      allowLoopback: e.CERTFLEET_ACME_VALIDATION_ALLOW_LOOPBACK === 'true',
    },
    acmeValidation: { concurrency: e.CERTFLEET_ACME_VALIDATION_CONCURRENCY, timeoutSeconds: e.CERTFLEET_ACME_VALIDATION_TIMEOUT_SECONDS },
    acmeRenewalInfoRetryAfterSeconds: e.CERTFLEET_ACME_RENEWAL_INFO_RETRY_AFTER_SECONDS,
    acmeTermsOfServiceUrl: e.CERTFLEET_ACME_TERMS_OF_SERVICE_URL,
    acmeWebsiteUrl: e.CERTFLEET_ACME_WEBSITE_URL,
    acmeCaaIdentities: e.CERTFLEET_ACME_CAA_IDENTITIES?.split(',').map((d) => d.trim().toLowerCase()) ?? [],
    /** Deprecated variable names in use, for a warning at start. */
    deprecations,
    trustedProxies: e.CERTFLEET_TRUSTED_PROXIES?.split(',').map((entry) => entry.trim()) ?? [],
    publicUrl: (e.CERTFLEET_PUBLIC_URL ?? `http://${e.CERTFLEET_HOST.includes(':') ? `[${e.CERTFLEET_HOST}]` : e.CERTFLEET_HOST}:${e.CERTFLEET_PORT}`).replace(
      /\/+$/,
      '',
    ),
  };
}
