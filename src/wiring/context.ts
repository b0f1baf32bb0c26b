/**
 * What every area's wiring gets from the composition root (src/app.ts): the configuration, the
 * log, the pool, the metrics registry, the audit writer, the worker pool and the cursor codec.
 */
import type { Config } from '../config/schema.ts';
import type { Pool } from '../db/pool.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AuditWriter } from '../services/audit/writer.ts';
import type { CursorCodec } from '../services/cursor.ts';
import type { WorkerPool } from '../workers/pool.ts';

export interface WiringContext {
  config: Config;
  log: Logger;
  pool: Pool;
  metrics: Metrics;
  audit: AuditWriter;
  workers: WorkerPool;
  cursors: CursorCodec;
}
