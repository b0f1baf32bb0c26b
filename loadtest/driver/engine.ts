/**
 * The load engine: keep-alive HTTP/1.1 connections over raw sockets, requests pre-encoded to
 * Buffers, one request in flight per connection (uWS v20.30 aborts pipelined requests answered
 * asynchronously: docs/architecture.md).
 *
 * Why not autocannon or undici: autocannon times a request from its actual send, so with a
 * constant arrival rate a slow server hides its queueing delay (coordinated omission); undici
 * costs several times more CPU per request than writing a prepared Buffer, and the generator
 * shares this machine's two cores with the server it measures. undici remains the test oracle
 * (loadtest/driver/engine.test.ts).
 *
 * constant-arrival-rate: request k is scheduled at t0 + k / rate and its latency is measured
 * from that time, so time spent waiting for a free connection counts (no coordinated omission).
 * max-throughput: each connection sends its next request as soon as the previous one completes.
 * Both stop scheduling at `durationMs` and give in-flight requests `graceMs` to finish.
 */
import net from 'node:net';
import tls from 'node:tls';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface PreparedRequest {
  /** The whole request: request line, headers, body. */
  bytes: Buffer;
  expect: number;
  /** HEAD: the response has no body, whatever Content-Length says (RFC 9110 9.3.2). */
  head?: boolean;
}

export interface EngineOptions {
  host: string;
  port: number;
  /** Several servers (replicas): connection i goes to targets[i % n]; default [{ host, port }]. */
  targets?: ReadonlyArray<{ host: string; port: number }>;
  /**
   * HTTPS (Pebble serves nothing else): one TLS session per kept-alive connection (a
   * reconnection makes a new one), trusting `ca` when given, else the system's roots and
   * NODE_EXTRA_CA_CERTS.
   */
  tls?: { ca?: string | Buffer };
  connections: number;
  executor: 'constant-arrival-rate' | 'max-throughput';
  /** Requests per second (constant-arrival-rate). */
  rate: number;
  durationMs: number;
  graceMs?: number;
  /** Request k of the run. */
  request: (k: number) => PreparedRequest;
  /** Called about once a second with the running totals (progress line). */
  onTick?: (progress: Progress) => void;
}

export interface Progress {
  elapsedMs: number;
  scheduled: number;
  completed: number;
  errors: number;
}

export interface EngineResult {
  startedAt: number;
  /** Open loop: scheduled requests still unsent when the grace period ended (like k6's dropped_iterations). */
  dropped: number;
  /** Wall time from the first scheduled request to the last completion, ms. */
  elapsedMs: number;
  scheduled: number;
  /** Per completed request: latency (ms, from the scheduled time) and completion time (ms since start). */
  latencies: Float64Array;
  completedAt: Float64Array;
  /** Per completed request: the index of the target (replica) that answered it. */
  targetOf: Uint8Array;
  completed: number;
  /** Responses by status code. */
  statuses: Map<number, number>;
  /** Responses whose status was not the expected one, and transport failures by kind. */
  unexpected: number;
  failures: Map<string, number>;
  /** The generator's own event-loop delay (ms): high values mean the driver, not the server, lagged. */
  generatorLagMs: { p99: number; max: number };
}

const crlfcrlf = Buffer.from('\r\n\r\n');
/** uWS (and most servers) spell it this way; other spellings take the slower lower-case path. */
const contentLengthExact = Buffer.from('\r\nContent-Length: ');
const crlf = Buffer.from('\r\n');

class Connection {
  socket: net.Socket;
  busy = false;
  /** Set after a failure: the next send reconnects (a dead server never causes a reconnect loop). */
  #broken = false;
  #buffer: Buffer | undefined;
  #scheduledAt = 0;
  #expect = 200;
  #head = false;

  constructor(
    private readonly options: EngineOptions,
    readonly target: number,
    private readonly onDone: (conn: Connection, status: number, expect: number, scheduledAt: number) => void,
    private readonly onFail: (conn: Connection, kind: string) => void,
  ) {
    this.socket = this.#connect();
  }

  #connect(): net.Socket {
    const { host, port } = this.options.targets?.[this.target] ?? this.options;
    const socket = this.options.tls
      ? tls.connect({ host, port, ALPNProtocols: ['http/1.1'], ...this.options.tls, ...(net.isIP(host) ? {} : { servername: host }) }).setNoDelay(true)
      : net.connect({ host, port, noDelay: true });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#fail(err.code ?? 'socket_error'));
    socket.on('close', () => this.#fail('connection_closed'));
    return socket;
  }

  send(request: PreparedRequest, scheduledAt: number): void {
    if (this.#broken) {
      this.#broken = false;
      this.socket = this.#connect();
    }
    this.busy = true;
    this.#scheduledAt = scheduledAt;
    this.#expect = request.expect;
    this.#head = request.head === true;
    this.socket.write(request.bytes);
  }

  #fail(kind: string): void {
    const wasBusy = this.busy;
    this.busy = false;
    this.#buffer = undefined;
    this.socket.removeAllListeners();
    this.socket.on('error', () => undefined);
    this.socket.destroy();
    this.#broken = true;
    if (wasBusy) this.onFail(this, kind);
  }

  #onData(chunk: Buffer): void {
    const buf = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    const headerEnd = buf.indexOf(crlfcrlf);
    if (headerEnd < 0) {
      this.#buffer = buf;
      return;
    }
    let length = 0;
    let closing = false;
    const exact = buf.indexOf(contentLengthExact);
    if (exact >= 0 && exact < headerEnd) {
      // Fast path: no string for the head at all (this runs tens of thousands of times a second
      // on the cores the server under test also needs).
      length = Number.parseInt(buf.toString('latin1', exact + contentLengthExact.length, buf.indexOf(crlf, exact + 2)), 10);
      closing = buf.indexOf('\r\nConnection: close') >= 0 && buf.indexOf('\r\nConnection: close') < headerEnd;
    } else {
      const head = buf.toString('latin1', 0, headerEnd).toLowerCase();
      const at = head.indexOf('\r\ncontent-length:');
      if (at >= 0) {
        const lineEnd = head.indexOf('\r\n', at + 2); // '\r\ncontent-length:' is 17 characters
        length = Number.parseInt(head.slice(at + 17, lineEnd < 0 ? undefined : lineEnd), 10);
      } else if (head.includes('\r\ntransfer-encoding:')) return this.#fail('chunked_response_unsupported');
      closing = head.includes('\r\nconnection: close');
    }
    // No body after HEAD, 204 or 304, whatever the headers announce (RFC 9112 6.3).
    const status = (buf[9]! - 48) * 100 + (buf[10]! - 48) * 10 + (buf[11]! - 48);
    if (this.#head || status === 204 || status === 304) length = 0;
    if (buf.length < headerEnd + 4 + length) {
      this.#buffer = buf;
      return;
    }
    this.#buffer = undefined;
    this.busy = false;
    this.onDone(this, status, this.#expect, this.#scheduledAt);
    if (closing) this.#fail('connection_closed');
  }

  close(): void {
    this.socket.removeAllListeners();
    this.socket.on('error', () => undefined);
    this.socket.destroy();
  }
}

export async function runLoad(options: EngineOptions): Promise<EngineResult> {
  const graceMs = options.graceMs ?? 10_000;
  const openLoop = options.executor === 'constant-arrival-rate';
  const total = openLoop ? Math.floor((options.rate * options.durationMs) / 1000) : Number.MAX_SAFE_INTEGER;
  let capacity = openLoop ? total : 1 << 20;
  let latencies = new Float64Array(capacity);
  let completedAt = new Float64Array(capacity);
  let targetOf = new Uint8Array(capacity);
  const statuses = new Map<number, number>();
  const failures = new Map<string, number>();
  let completed = 0;
  let unexpected = 0;
  let scheduled = 0;
  let failed = 0;
  const free: Connection[] = [];
  let t0 = 0;
  let stopped = false;
  const now = () => performance.now() - t0;

  const record = (latency: number, target: number) => {
    if (completed === capacity) {
      capacity *= 2;
      const grow = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(capacity);
        b.set(a);
        return b;
      };
      latencies = grow(latencies, (n) => new Float64Array(n));
      completedAt = grow(completedAt, (n) => new Float64Array(n));
      targetOf = grow(targetOf, (n) => new Uint8Array(n));
    }
    const at = now();
    latencies[completed] = latency;
    completedAt[completed] = at;
    targetOf[completed] = target;
    completed++;
  };

  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const outstanding = () => scheduled - completed - failed;

  const onDone = (conn: Connection, status: number, expect: number, scheduledAt: number) => {
    record(now() - scheduledAt, conn.target);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status !== expect) unexpected++;
    release(conn);
  };
  const onFail = (conn: Connection, kind: string) => {
    failed++;
    failures.set(kind, (failures.get(kind) ?? 0) + 1);
    release(conn);
  };

  // Open loop: the next request's scheduled time; it may lag behind now (then it is late, and its
  // latency includes the wait).
  const intervalMs = openLoop ? 1000 / options.rate : 0;
  const dispatch = () => {
    // Open loop: requests scheduled inside the window are still sent (late) during the grace
    // period; closed loop: nothing new once the window is over.
    if (stopped && !openLoop) return;
    const t = now();
    while (free.length > 0 && scheduled < total) {
      const due = openLoop ? scheduled * intervalMs : t;
      if (due > t) break;
      if (due >= options.durationMs) break;
      // FIFO: every connection stays in use. LIFO would leave some idle past the server's HTTP
      // idle timeout (uWS: about 10 s), and reusing one just as it closes fails with EPIPE.
      const conn = free.shift()!;
      conn.send(options.request(scheduled), due);
      scheduled++;
    }
  };
  function release(conn: Connection): void {
    free.push(conn);
    dispatch();
    if (stopped && outstanding() === 0 && (!openLoop || scheduled === total)) finish();
  }

  const targets = options.targets?.length ?? 1;
  if (targets > 255) throw new Error('at most 255 targets');
  const connections = Array.from({ length: options.connections }, (_, i) => new Connection(options, i % targets, onDone, onFail));
  await Promise.all(
    connections.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          c.socket.once('connect', resolve);
          c.socket.once('error', reject);
        }),
    ),
  );
  free.push(...connections);
  const lag = lagMonitor();
  const startedAt = Date.now();
  t0 = performance.now();
  // A 1 ms timer paces the open loop between completions; completions dispatch at once.
  const pacer = setInterval(dispatch, 1);
  const ticker = setInterval(() => options.onTick?.({ elapsedMs: now(), scheduled, completed, errors: failed + unexpected }), 1000);
  await new Promise<void>((resolve) => setTimeout(resolve, options.durationMs));
  stopped = true;
  if (outstanding() > 0 || (openLoop && scheduled < total)) await Promise.race([finished, new Promise((r) => setTimeout(r, graceMs))]);
  clearInterval(pacer);
  clearInterval(ticker);
  const elapsedMs = now();
  const timedOut = outstanding();
  if (timedOut > 0) failures.set('timeout', (failures.get('timeout') ?? 0) + timedOut);
  for (const c of connections) c.close();
  return {
    generatorLagMs: lag(),
    startedAt,
    dropped: openLoop ? total - scheduled : 0,
    elapsedMs,
    scheduled,
    latencies: latencies.subarray(0, completed),
    completedAt: completedAt.subarray(0, completed),
    targetOf: targetOf.subarray(0, completed),
    completed,
    statuses,
    unexpected,
    failures,
  };
}

const lagResolutionMs = 5;

/**
 * Watches this process's event-loop delay; the returned function stops and reads it (ms).
 * monitorEventLoopDelay samples the time between its timer's runs, which includes the timer's
 * own period (an idle loop reads about 5.5 ms at a 5 ms resolution), so the period is subtracted:
 * what is left is the delay.
 */
export function lagMonitor(): () => { p99: number; max: number } {
  const lag = monitorEventLoopDelay({ resolution: lagResolutionMs });
  lag.enable();
  return () => {
    lag.disable();
    return { p99: delayBeyond(lag.percentile(99), lagResolutionMs), max: delayBeyond(lag.max, lagResolutionMs) };
  };
}

/** A monitorEventLoopDelay reading (ns) less its sampling period (ms), in ms to 0.01, never negative. */
export function delayBeyond(sampleNs: number, periodMs: number): number {
  return Math.max(0, Math.round(sampleNs / 1e4 - periodMs * 100) / 100);
}

/** Encodes one request for the engine. */
export function prepareRequest(
  host: string,
  req: { method: string; path: string; headers?: Record<string, string>; body?: string | null; expect?: number },
): PreparedRequest {
  const body = req.body == null ? '' : req.body;
  let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(req.headers ?? {})) head += `${name}: ${value}\r\n`;
  if (body.length > 0 || req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  return { bytes: Buffer.from(`${head}\r\n${body}`), expect: req.expect ?? 200, ...(req.method === 'HEAD' ? { head: true } : {}) };
}
