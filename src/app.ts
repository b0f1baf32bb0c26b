/**
 * Wires one certfleet server: database (embedded or DATABASE_URL) -> migrations -> services ->
 * HTTP routes -> listen. `close()` undoes it in reverse: drain HTTP, flush services, close the
 * pool, stop the embedded database.
 */
import type { Config } from './config/schema.ts';
import { createApiKeyRepository } from './db/api-keys.ts';
import { createAgentWorkRepository } from './db/agent-work.ts';
import { AcmeServer } from './acme/server.ts';
import { poolVerifier } from './acme/requests.ts';
import { createAcmeServerRepository } from './db/acme-server.ts';
import { createAcmeOrderRepository } from './db/acme-orders.ts';
import { createAcmeChallengeRepository } from './db/acme-issuer-challenges.ts';
import { loadAcmeAccountKey } from './db/acme-issuer-accounts.ts';
import { createSigningJobRepository } from './db/signing-jobs.ts';
import { createDiscoveryRepository } from './db/discovery.ts';
import { createRenewalSweepRepository } from './db/renewal-sweep.ts';
import { createNotificationRepository } from './db/notifications.ts';
import { createAgentRepository } from './db/agents.ts';
import { createAuditRepository } from './db/audit.ts';
import { createCertificateRepository } from './db/certificates.ts';
import { createCaKeyRepository } from './db/ca-keys.ts';
import { loadInstanceSecret } from './db/instance-secrets.ts';
import { createIssuanceRepository } from './db/issuance.ts';
import { createJobRepository } from './db/jobs.ts';
import { createRevocationRepository } from './db/revocations.ts';
import { openDatabase, type Database } from './db/database.ts';
import { pingDatabase } from './db/health.ts';
import { notify } from './db/notify.ts';
import { migrate } from './db/migrate.ts';
import { createUnitOfWork } from './db/unit-of-work.ts';
import { ChangeFeed } from './db/change-feed.ts';
import { createFleetCountsRepository } from './db/fleet-counts.ts';
import { FleetSeries } from './services/fleet-series.ts';
import { ResponseCache } from './http/response-cache.ts';
import { buildRoutes } from './http/routes/index.ts';
import { HttpServer, type ListeningAddress } from './http/server.ts';
import { loadHttpEngine } from './http/uws.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { AuditLog } from './services/audit/audit-log.ts';
import { AuditWriter } from './services/audit/writer.ts';
import { ApiKeyService } from './services/auth/api-keys.ts';
import { CertificateService } from './services/certificates/certificates.ts';
import { ConcurrencyGate } from './services/concurrency-gate.ts';
import { CursorCodec } from './services/cursor.ts';
import { AgentService } from './services/fleet/agents.ts';
import { HeartbeatBatcher } from './services/fleet/heartbeats.ts';
import { DiscoveryService } from './services/fleet/discovery.ts';
import { AgentWorkService } from './services/fleet/work.ts';
import { JobService } from './services/jobs.ts';
import { createInventoryServices } from './services/inventory/inventory-services.ts';
import { NotificationService } from './services/notifications.ts';
import { createInventoryRepositories } from './db/inventory-tables.ts';
import { seedDemo } from './services/demo.ts';
import { resolveEncryptionKey } from './services/pki/encryption-key.ts';
import { CrlService } from './services/pki/crl.ts';
import { IssuanceService } from './services/pki/issuance.ts';
import { ExternalIssuanceService } from './services/pki/external-issuance.ts';
import { AcmeIssuer } from './services/issuers/acme-issuer.ts';
import { JobProcessor } from './scheduler/job-processor.ts';
import { RevocationService } from './services/pki/revocation.ts';
import { caSpec, LocalCaRegistry } from './services/pki/local-ca.ts';
import { agentHealthLoop } from './scheduler/agent-health.ts';
import { LeaderLock } from './scheduler/leader.ts';
import { renewalSweepLoop } from './scheduler/renewal-sweep.ts';
import { expiryAlertsLoop } from './scheduler/expiry-alerts.ts';
import { jobTimeoutLoop } from './scheduler/job-timeouts.ts';
import { crlRefreshLoop } from './scheduler/crl-refresh.ts';
import { auditChainLoop } from './scheduler/audit-chain.ts';
import { countCompactionLoop } from './scheduler/count-compaction.ts';
import { acmeGcLoop } from './scheduler/acme-gc.ts';
import { runNowChannel, SingletonLoops } from './scheduler/singleton-loops.ts';
import { WorkerPool } from './workers/pool.ts';
import { version } from './version.ts';

export interface RunningApp {
  address: ListeningAddress;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  database: Database;
  /** Every (method, path) the server answers, HEAD included. */
  routes: Array<{ method: string; path: string }>;
  /** Graceful stop; resolves when everything is closed. */
  close(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);
/** /ready must answer fast even when the database hangs: probes usually time out at 1-5 s. */
const readyTimeoutMs = 2_000;

export async function startApp(config: Config, log: Logger): Promise<RunningApp> {
  const startedAt = Date.now();
  const engine = loadHttpEngine();
  if (engine.fallbackReason) {
    log.warn({ reason: engine.fallbackReason }, 'uWebSockets.js binary unavailable; serving with the node:http fallback');
  }
  const database = await openDatabase(config, log);
  let workers: WorkerPool | undefined;
  let changesStarted: ChangeFeed | undefined;
  try {
    await migrate(database.pool, log);
    const metrics = new Metrics();
    metrics.watchPool(() => database.pool);
    metrics.info('certfleet_build_info', 'certfleet version', { version });
    metrics.info('certfleet_http_engine_info', 'HTTP engine serving requests', {
      engine: engine.name,
      version: engine.version,
    });
    const { pool } = database;
    const auditRepo = createAuditRepository(pool, database.streamPool);
    // Every replica hears every change (LISTEN/NOTIFY); writes wait until this one has heard theirs.
    const changes = new ChangeFeed({ connectionString: database.url, log });
    changes.start();
    changesStarted = changes;
    const audit = new AuditWriter({ repo: auditRepo, uow: createUnitOfWork(pool, log, { afterEveryCommit: (changed) => changes.announce(changed) }), log });
    const cursors = new CursorCodec(await loadInstanceSecret(pool, 'cursor-hmac'));
    const apiKeys = new ApiKeyService({
      repo: createApiKeyRepository(pool),
      log,
      audit,
      cacheEntries: config.authCacheEntries,
      negativeCacheEntries: config.authNegativeCacheEntries,
      changes,
    });
    metrics.gauge('certfleet_auth_cache_keys', 'API keys held in the authentication cache', () => apiKeys.cacheSizes.keys);
    metrics.gauge(
      'certfleet_auth_cache_unknown_tokens',
      'Unknown bearer tokens remembered (briefly) by the authentication cache',
      () => apiKeys.cacheSizes.unknown,
    );
    const certificateRepo = createCertificateRepository(pool);
    const certificates = new CertificateService(certificateRepo, audit, cursors);
    workers = new WorkerPool({ threads: config.workerThreads, maxQueue: config.workerQueueMax });
    const workerPool = workers;
    metrics.gauge('certfleet_worker_queue_depth', 'Tasks waiting for a worker thread', () => workerPool.queueSize);
    metrics.gauge('certfleet_worker_utilization', 'Share of worker thread time spent running tasks (0..1)', () => workerPool.utilization);
    metrics.counter('certfleet_worker_tasks_completed_total', 'Tasks completed by the worker pool', () => workerPool.completed);
    metrics.counter('certfleet_worker_task_seconds_total', 'Summed task latency (queue + run) in seconds', () => workerPool.totalTaskMs / 1000);
    const encryptionKey = resolveEncryptionKey(config.encryptionKey, config.dataDir);
    const cas = new LocalCaRegistry({
      repo: createCaKeyRepository(pool),
      encryptionKey,
      publicUrl: config.publicUrl,
      caFiles: config.caFiles,
    });
    await cas.checkEncryptionKey();
    const issuanceRepo = createIssuanceRepository(pool);
    const agentWorkRepo = createAgentWorkRepository(pool);
    const signingJobs = createSigningJobRepository(pool);
    const acmeChallenges = createAcmeChallengeRepository(pool);
    // Server-side work: CSRs that external CAs sign, at most CERTFLEET_RENEWAL_CONCURRENCY in
    // flight on this replica; a CSR queued here is picked up at once.
    const external = new ExternalIssuanceService({
      repo: issuanceRepo,
      signing: signingJobs,
      deployments: agentWorkRepo,
      issuers: {
        acme: new AcmeIssuer({ accountKey: (issuerId, create) => loadAcmeAccountKey(pool, encryptionKey, issuerId, create), challenges: acmeChallenges, log }),
      },
      workers: workerPool,
      audit,
      maxWaitSeconds: config.asyncPollMaxWaitSeconds,
      onQueued: () => jobProcessor.loop.trigger(), // only ever called by requests, after start-up
    });
    const jobProcessor = new JobProcessor({
      jobs: signingJobs,
      run: (job, signal) => external.process(job, signal),
      concurrency: config.renewalConcurrency,
      intervalMs: config.jobProcessorIntervalSeconds * 1000,
      log,
    });
    metrics.gauge('certfleet_jobs_in_flight', 'Server-side jobs (external CA signing) running on this replica', () => jobProcessor.inFlight);
    const issuance = new IssuanceService({ repo: issuanceRepo, cas, workers: workerPool, audit, deployments: agentWorkRepo, external });
    const revocationRepo = createRevocationRepository(pool);
    const crls = new CrlService({
      repo: revocationRepo,
      cas,
      workers: workerPool,
      log,
      issuerCaSpec: async (issuerId) => {
        const config = await issuanceRepo.localIssuer(issuerId);
        return config ? caSpec(issuerId, config) : undefined;
      },
    });
    const revocation = new RevocationService(revocationRepo, crls, audit);
    const agentRepo = createAgentRepository(pool);
    const heartbeats = new HeartbeatBatcher({
      repo: agentRepo,
      flushMs: config.heartbeatFlushMs,
      batchMax: config.heartbeatBatchMax,
      lanes: config.heartbeatLanes,
      audit,
    });
    metrics.counter('certfleet_heartbeats_recorded_total', 'Heartbeats durably recorded', () => heartbeats.heartbeats);
    metrics.counter('certfleet_heartbeat_batches_total', 'Heartbeat batches committed', () => heartbeats.batches);
    metrics.counter(
      'certfleet_heartbeats_deferred_total',
      "Agents whose heartbeat met a liveness row another replica's batch held, recorded without waiting and folded in by the leader",
      () => heartbeats.deferred,
    );
    const agents = new AgentService(agentRepo, heartbeats, audit, config.agentBootstrapToken);
    const healthLoop = agentHealthLoop({
      repo: agentRepo,
      audit,
      offlineAfterSeconds: config.agentOfflineAfterSeconds,
      intervalSeconds: config.agentHealthIntervalSeconds,
      log,
    });
    const jobRepo = createJobRepository(pool);
    const sweepLoop = renewalSweepLoop({
      sweep: createRenewalSweepRepository(pool),
      jobs: jobRepo,
      audit,
      intervalSeconds: config.renewalSweepIntervalSeconds,
      log,
    });
    const notifications = createNotificationRepository(pool);
    const alertsLoop = expiryAlertsLoop({
      repo: notifications,
      webhookUrl: config.alertWebhookUrl,
      maxAttempts: config.alertMaxAttempts,
      intervalSeconds: config.expiryAlertsIntervalSeconds,
      log,
    });
    const acme = new AcmeServer({
      repo: createAcmeServerRepository(pool),
      audit,
      nonceKey: await loadInstanceSecret(pool, 'acme-nonce-hmac'),
      nonceTtlSeconds: config.acmeNonceTtlSeconds,
      publicUrl: config.publicUrlConfigured,
      scheme: config.tls ? 'https' : 'http',
      meta: { termsOfService: config.acmeTermsOfServiceUrl, website: config.acmeWebsiteUrl, caaIdentities: config.acmeCaaIdentities },
      encryptionKey,
      eabRequired: config.acmeEabRequired,
      rateLimits: config.acmeRateLimits,
      remoteVerify: poolVerifier(workerPool),
      orders: {
        repo: createAcmeOrderRepository(pool),
        changes,
        defaultProfile: config.acmeDefaultProfile,
        settings: {
          orderTtlSeconds: config.acmeOrderTtlSeconds,
          maxPendingOrdersPerAccount: config.acmeMaxPendingOrdersPerAccount,
          // Well past any validation's own deadline: only abandoned ones qualify.
          interruptedValidationSeconds: config.acmeValidation.timeoutSeconds * 3 + 30,
        },
        retentionSeconds: config.acmeOrderRetentionSeconds,
        validators: config.acmeValidators,
        validation: config.acmeValidation,
        certificates,
        issuance,
        revocation,
        workers: workerPool,
      },
      renewalInfoRetryAfterSeconds: config.acmeRenewalInfoRetryAfterSeconds,
    });
    metrics.gauge('certfleet_acme_validations_queued', 'ACME challenge validations running or waiting on this replica', () => acme.validations.depth);
    // Singleton loops run only on the replica holding the leader lock. The set is sealed before
    // the lock is tried.
    const auditChain = auditChainLoop({ audit, intervalSeconds: config.auditChainIntervalSeconds, log });
    const singletons = new SingletonLoops()
      .add(healthLoop)
      .add(sweepLoop)
      .add(alertsLoop)
      .add(jobTimeoutLoop({ jobs: jobRepo, audit, timeoutSeconds: config.jobRunningTimeoutSeconds, intervalSeconds: config.jobTimeoutIntervalSeconds, log }))
      .add(crlRefreshLoop({ crls, intervalSeconds: config.crlRefreshIntervalSeconds, log }))
      .add(countCompactionLoop({ certificates: certificateRepo, intervalSeconds: config.countCompactionIntervalSeconds, log }))
      .add(acmeGcLoop({ acme, intervalSeconds: config.acmeGcIntervalSeconds, log }))
      .seal();
    metrics.watchLoops(() => [...singletons.loops, jobProcessor.loop, auditChain]);
    const leader = new LeaderLock({
      connectionString: database.url,
      retryMs: config.leaderRetryMs,
      log,
      onChange: (leading) => singletons.lead(leading),
      channels: [runNowChannel],
      onNotification: (_channel, name) => {
        const outcome = singletons.trigger(name);
        log.info({ loop: name.replace(/[^\w-]/g, '?').slice(0, 64), outcome }, 'run-now request');
      },
    });
    metrics.gauge('certfleet_leader', 'Whether this replica holds the leader lock and runs the singleton loops', () => (leader.leading ? 1 : 0));
    if (config.adminApiKey) await apiKeys.bootstrapAdmin(config.adminApiKey);
    if (config.demoSeed) log.info({ certificates: await seedDemo(pool, audit) }, 'demo inventory seeded');

    const fleetSeries = new FleetSeries({ repo: createFleetCountsRepository(pool), log, maxAgeMs: config.fleetMetricsIntervalSeconds * 1000 });
    void fleetSeries.refresh();
    metrics.labelledGauge(
      'certfleet_certificates',
      'Certificates by issuer, stored status and time to expiry (expired, 7d, 30d, 90d: within that many days; later); counted at most once a minute',
      ['issuer', 'status', 'expires_in'],
      () =>
        (fleetSeries.current()?.certificates ?? []).map((c) => ({ labels: { issuer: c.issuer_id, status: c.status, expires_in: c.expires_in }, value: c.n })),
    );
    metrics.labelledGauge('certfleet_agents', 'Agents not retired, by status; counted at most once a minute', ['status'], () =>
      (fleetSeries.current()?.agents ?? []).map((a) => ({ labels: { status: a.status }, value: a.n })),
    );
    metrics.gauge('certfleet_fleet_counted_timestamp_seconds', 'When certfleet_certificates and certfleet_agents were counted', () =>
      Math.floor((fleetSeries.current()?.countedAt ?? 0) / 1000),
    );

    const responses = new ResponseCache({ maxBytes: config.responseCacheMb * 1024 * 1024 });
    metrics.counter('certfleet_response_cache_hits_total', 'Requests answered from the response cache', () => responses.hits);
    metrics.counter('certfleet_response_cache_misses_total', 'Cacheable requests that computed their response', () => responses.misses);
    metrics.counter('certfleet_response_cache_shared_total', 'Cacheable requests that shared a computation already running', () => responses.shared);
    metrics.gauge('certfleet_response_cache_bytes', 'Bytes held by the response cache', () => responses.bytes);
    metrics.gauge('certfleet_change_feed_up', 'Whether the change feed (LISTEN/NOTIFY) is connected; caches are bypassed while it is not', () =>
      changes.healthy ? 1 : 0,
    );
    const server = new HttpServer({
      engine,
      log,
      metrics,
      authenticate: (token) => apiKeys.authenticate(token),
      maxBodyBytes: config.maxBodyBytes,
      streamStallTimeoutMs: config.streamStallTimeoutMs,
      cache: config.responseCacheMb > 0 ? { responses, versions: changes } : undefined,
      tls: config.tls,
    });
    metrics.gauge('certfleet_http_requests_in_flight', 'HTTP requests started and not yet answered (this scrape included)', () => server.inflight);
    server.register(
      buildRoutes({
        health: {
          version,
          engine,
          startedAt,
          pingDatabase: () => pingDatabase(pool, readyTimeoutMs),
          isLeader: () => leader.leading,
          changeFeedUp: () => changes.healthy,
        },
        metrics,
        metricsToken: config.metricsToken,
        apiKeys,
        inventory: createInventoryServices(createInventoryRepositories(pool), audit),
        audit,
        auditLog: new AuditLog(
          auditRepo,
          cursors,
          new ConcurrencyGate({ what: 'audit exports', total: config.exportConcurrency, perKey: Math.min(2, config.exportConcurrency), retryAfterSeconds: 5 }),
        ),
        certificates,
        issuance,
        revocation,
        crls,
        agents,
        cursors,
        jobs: new JobService(jobRepo, audit, cursors),
        agentWork: new AgentWorkService(agentWorkRepo, issuance, audit),
        acmeChallenges,
        discovery: new DiscoveryService(createDiscoveryRepository(pool), workerPool, audit, cursors),
        notifications: new NotificationService(notifications, cursors),
        scheduler: { loops: singletons, isLeader: () => leader.leading, requestRun: (name) => notify(pool, runNowChannel, name), audit },
        acme,
      }),
    );
    // Serve coherent from the first request (caches work without it, only slower and degraded).
    if (!(await changes.listening(5_000))) log.warn('change feed not listening yet; caches bypassed and API keys re-read every second until it is');
    const address = await server.listen(config.host, config.port);
    leader.start();
    jobProcessor.start();
    auditChain.start();
    const hostInUrl = address.host.includes(':') ? `[${address.host}]` : address.host;
    const url = `${address.scheme}://${hostInUrl}:${address.port}`;
    log.info({ url, http_engine: engine.name, database: database.kind, version }, 'certfleet listening');
    if (!config.tls && !loopbackHosts.has(config.host)) {
      log.warn(
        { host: config.host },
        'listening beyond loopback without TLS: API keys travel in clear text; set CERTFLEET_TLS_CERT_PATH and CERTFLEET_TLS_KEY_PATH',
      );
    }

    let closing: Promise<void> | undefined;
    return {
      address,
      url,
      database,
      routes: server.routes.list(),
      close() {
        closing ??= (async () => {
          // Leave part of the shutdown budget for flushing and stopping the database.
          await leader.stop();
          await singletons.stop(1_000);
          await jobProcessor.stop(1_000);
          await auditChain.stop(1_000);
          const unfinished = await server.close(Math.floor(config.shutdownTimeoutMs * 0.7));
          if (unfinished > 0) log.warn({ unfinished }, 'shutdown budget spent with requests still running');
          await apiKeys.close();
          crls.close();
          acme.close();
          await heartbeats.flush();
          await workerPool.close();
          await audit.flush();
          await changes.stop();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await workers?.close();
    await changesStarted?.stop();
    await database.close();
    throw err;
  }
}
