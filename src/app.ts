/**
 * Wires one certfleet server: database (embedded or DATABASE_URL) -> migrations -> services ->
 * HTTP routes -> listen. `close()` undoes it in reverse: drain HTTP, flush services, close the
 * pool, stop the embedded database.
 */
import type { Config } from './config/schema.ts';
import { createApiKeyRepository } from './db/api-keys.ts';
import { createNotificationRepository } from './db/notifications.ts';
import { createAuditRepository } from './db/audit.ts';
import { createCertificateRepository } from './db/certificates.ts';
import { loadInstanceSecret } from './db/instance-secrets.ts';
import { createJobRepository } from './db/jobs.ts';
import { openDatabase, type Database } from './db/database.ts';
import { pingDatabase } from './db/health.ts';
import { notify } from './db/notify.ts';
import { migrate } from './db/migrate.ts';
import { createUnitOfWork } from './db/unit-of-work.ts';
import { ChangeFeed } from './db/change-feed.ts';
import { ResponseCache } from './http/response-cache.ts';
import { buildRoutes } from './http/routes/index.ts';
import { HttpServer, type ListeningAddress, type TlsReloaded } from './http/server.ts';
import { TrustedProxies } from './http/client-address.ts';
import { loadHttpEngine } from './http/uws.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { AuditLog } from './services/audit/audit-log.ts';
import { AuditWriter } from './services/audit/writer.ts';
import { ApiKeyService } from './services/auth/api-keys.ts';
import { CertificateService } from './services/certificates/certificates.ts';
import { ConcurrencyGate } from './services/concurrency-gate.ts';
import { CursorCodec } from './services/cursor.ts';
import { JobService } from './services/jobs.ts';
import { createInventoryServices } from './services/inventory/inventory-services.ts';
import { NotificationService } from './services/notifications.ts';
import { createInventoryRepositories } from './db/inventory-tables.ts';
import { seedDemo } from './services/demo.ts';
import { runNowChannel } from './scheduler/singleton-loops.ts';
import { WorkerPool } from './workers/pool.ts';
import type { WiringContext } from './wiring/context.ts';
import { wireAcme } from './wiring/acme.ts';
import { wireFleet } from './wiring/fleet.ts';
import { wirePki } from './wiring/pki.ts';
import { wireScheduler } from './wiring/scheduler.ts';
import { version } from './version.ts';

export interface RunningApp {
  address: ListeningAddress;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  database: Database;
  /** Every (method, path) the server answers, HEAD included. */
  routes: Array<{ method: string; path: string }>;
  /** Re-reads the TLS files (SIGHUP); throws, changing nothing, when the new pair is unusable. */
  reloadTls(): TlsReloaded;
  /** Graceful stop; resolves when everything is closed. */
  close(): Promise<void>;
}

const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);
/** /ready must answer fast even when the database hangs: probes usually time out at 1-5 s. */
const readyTimeoutMs = 2_000;

export async function startApp(config: Config, log: Logger): Promise<RunningApp> {
  const startedAt = Date.now();
  const engine = loadHttpEngine(config.httpEngine);
  if (engine.fallbackReason) {
    log.warn({ reason: engine.fallbackReason }, 'serving with the node:http fallback (about half the throughput of uWebSockets.js)');
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
    const changes = new ChangeFeed({ connectionString: database.url, log, fallback: pool });
    changes.start();
    changesStarted = changes;
    const audit = new AuditWriter({
      repo: auditRepo,
      uow: createUnitOfWork(pool, log, { afterEveryCommit: (changed, announcement) => changes.announce(changed, announcement) }),
      log,
    });
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
    // Each area wires itself (src/wiring/): its repositories, services, loops and metrics.
    const ctx: WiringContext = { config, log, pool, metrics, audit, workers: workerPool, cursors };
    const pki = await wirePki(ctx);
    const { issuance, revocation, crls, jobProcessor } = pki;
    const fleet = wireFleet(ctx, pki, changes);
    const acme = await wireAcme(ctx, { changes, encryptionKey: pki.encryptionKey, certificates, issuance, revocation });
    const jobRepo = createJobRepository(pool);
    const notifications = createNotificationRepository(pool);
    const { singletons, leader, auditChain } = wireScheduler(ctx, {
      databaseUrl: database.url,
      healthLoop: fleet.healthLoop,
      jobs: jobRepo,
      notifications,
      certificates: certificateRepo,
      crls,
      acme,
      jobProcessor,
    });
    if (config.adminApiKey) await apiKeys.bootstrapAdmin(config.adminApiKey);
    if (config.demoSeed) log.info({ certificates: await seedDemo(pool, audit) }, 'demo inventory seeded');
    void fleet.fleetSeries.refresh();

    const responses = new ResponseCache({ maxBytes: config.responseCacheMb * 1024 * 1024 });
    metrics.counter('certfleet_response_cache_hits_total', 'Requests answered from the response cache', () => responses.hits);
    metrics.counter('certfleet_response_cache_misses_total', 'Cacheable requests that computed their response', () => responses.misses);
    metrics.counter('certfleet_response_cache_shared_total', 'Cacheable requests that shared a computation already running', () => responses.shared);
    metrics.gauge('certfleet_response_cache_bytes', 'Bytes held by the response cache', () => responses.bytes);
    metrics.gauge('certfleet_change_feed_up', 'Whether the change feed (LISTEN/NOTIFY) is connected; caches are bypassed while it is not', () =>
      changes.healthy ? 1 : 0,
    );
    metrics.counter(
      'certfleet_change_feed_missed_total',
      'Checks that found a committed change never announced (its writer died or lost PostgreSQL); every cache was flushed',
      () => changes.missed,
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
      trustedProxies: config.trustedProxies.length > 0 ? new TrustedProxies(config.trustedProxies) : undefined,
    });
    if (config.tls) {
      metrics.gauge(
        'certfleet_tls_certificate_expiry_timestamp_seconds',
        "When the API's own TLS certificate (CERTFLEET_TLS_CERT_PATH) expires",
        () => Date.parse(server.tlsInService?.notAfter ?? '') / 1000,
      );
    }
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
          () => audit.caughtUp(),
        ),
        certificates,
        issuance,
        revocation,
        crls,
        agents: fleet.agents,
        cursors,
        jobs: new JobService(jobRepo, audit, cursors),
        agentWork: fleet.agentWork,
        acmeChallenges: pki.acmeChallenges,
        discovery: fleet.discovery,
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
      reloadTls: () => server.reloadTls(),
      close() {
        closing ??= (async () => {
          // Leave part of the shutdown budget for flushing and stopping the database.
          await leader.stop();
          await singletons.stop(1_000);
          await jobProcessor.stop(1_000);
          await auditChain.stop(1_000);
          // Waiting work polls answer now (empty), so the drain below does not wait out their waits.
          fleet.workWakeups.close();
          const unfinished = await server.close(Math.floor(config.shutdownTimeoutMs * 0.7));
          if (unfinished > 0) log.warn({ unfinished }, 'shutdown budget spent with requests still running');
          await apiKeys.close();
          crls.close();
          acme.close();
          await fleet.heartbeats.flush();
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
