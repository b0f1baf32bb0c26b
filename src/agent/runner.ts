/**
 * The agent: registers once (id and key kept in a 0600 state file), heartbeats, polls for work,
 * generates keys locally (the private key never leaves the host), submits CSRs, and deploys
 * certificates to its file targets. Loops are jittered (±10%) and start after a random delay,
 * so a fleet restarted together does not arrive in lockstep.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../observability/logger.ts';
import { buildCsr } from '../pki/csr-builder.ts';
import { toPem } from '../pki/certificate.ts';
import { Loop } from '../scheduler/loop.ts';
import { AgentClient, AgentGone, ApiError, type Work } from './client.ts';
import { describeNetworkError } from './http.ts';
import { reportChunks, scanDirectories } from './discovery-scan.ts';
import { deployTogether, sameDaemon, type DeploymentOutcome, type DeploymentPlan } from './connectors/deploy.ts';
import { deploymentMaterial } from './connectors/material.ts';
import { planDeployment, type TargetConfig } from './connectors/plans.ts';

export interface AgentOptions {
  server: string;
  stateFile: string;
  name: string;
  bootstrapToken: string | undefined;
  heartbeatSeconds: number;
  pollSeconds: number;
  /** Directories scanned for existing certificates (none: no discovery). */
  discoveryDirs: string[];
  discoverySeconds: number;
  log: Logger;
}

interface AgentState {
  server: string;
  agent_id: string;
  api_key: string;
}

async function writePrivate(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp`;
  await fs.writeFile(temp, content, { mode: 0o600 });
  await fs.rename(temp, file);
}

/** Runs fn over items, at most `limit` at a time; the first failure stops taking new items and is thrown. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => (failure ??= { err }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

export class AgentRunner {
  readonly #o: AgentOptions;
  #client!: AgentClient;

  constructor(options: AgentOptions) {
    this.#o = options;
  }

  get keysDir(): string {
    return path.join(path.dirname(this.#o.stateFile), 'keys');
  }

  /**
   * Loads the state file or registers (once) and writes it. Until the server answers, first
   * registration retries with capped exponential backoff (1 s doubling to 60 s), one log line
   * per attempt naming the cause; `retry: false` (--once) fails at the first attempt. A 4xx
   * answer (a wrong bootstrap token, a name taken) is not retried: it will not change.
   */
  async connect(options: { retry: boolean; signal?: AbortSignal } = { retry: false }): Promise<string> {
    let state: AgentState | undefined;
    try {
      state = JSON.parse(await fs.readFile(this.#o.stateFile, 'utf8')) as AgentState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (!state) {
      if (!this.#o.bootstrapToken) throw new Error('not registered yet: set CERTFLEET_AGENT_BOOTSTRAP_TOKEN for the first start');
      const agent = await this.#register(options);
      state = { server: this.#o.server, agent_id: agent.id, api_key: agent.api_key };
      await writePrivate(this.#o.stateFile, `${JSON.stringify(state, null, 2)}\n`);
      this.#o.log.info({ agentId: agent.id }, 'registered');
    }
    this.#client = new AgentClient(this.#o.server, { agentId: state.agent_id, apiKey: state.api_key });
    return state.agent_id;
  }

  async #register(options: { retry: boolean; signal?: AbortSignal }): Promise<{ id: string; api_key: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await AgentClient.register(this.#o.server, this.#o.bootstrapToken!, { name: this.#o.name, ...this.#metadata() });
      } catch (err) {
        const answered = err instanceof ApiError;
        if (answered && err.status < 500) throw err;
        const cause = answered ? err.message : describeNetworkError(err);
        if (!options.retry || options.signal?.aborted) throw new Error(`registration with ${this.#o.server} failed: ${cause}`, { cause: err });
        const waitMs = Math.min(60_000, 1000 * 2 ** attempt);
        this.#o.log.warn({ server: this.#o.server, cause, retry_in_s: waitMs / 1000 }, 'registration failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          options.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        if (options.signal?.aborted) throw new Error('stopped before registration succeeded');
      }
    }
  }

  #metadata(): Record<string, string> {
    return { hostname: os.hostname(), os: process.platform, architecture: process.arch, version: '0.1.0' };
  }

  /** When the server last acknowledged a heartbeat of this agent (performance.now() at its sending). */
  #lastBeatAt = Number.NEGATIVE_INFINITY;
  /** A poll carrying the heartbeat is in flight. */
  #beatCarried = false;

  async heartbeat(): Promise<void> {
    const sentAt = performance.now();
    await this.#client.heartbeat(this.#metadata());
    this.#lastBeatAt = sentAt;
  }

  /** Whether a heartbeat is due now: none acknowledged for `fraction` of the interval. */
  #beatDue(fraction: number): boolean {
    return performance.now() - this.#lastBeatAt >= this.#o.heartbeatSeconds * 1000 * fraction;
  }

  /**
   * How long a poll may wait on the server for work, in whole seconds (0: none): the poll
   * interval, but no longer than the heartbeat interval (polls carry the heartbeats) nor 55 s
   * (below proxies' idle timeouts).
   */
  get #waitSeconds(): number {
    return Math.min(Math.floor(this.#o.pollSeconds), Math.floor(this.#o.heartbeatSeconds), 55);
  }

  /**
   * One poll: handle every CSR and deployment item; returns what was done. With `wait`, the
   * first request waits on the server (up to the poll interval) until work is created, and
   * carries the heartbeat when one is nearly due, so an idle agent makes one request per poll
   * interval on one kept-alive connection instead of a poll and a heartbeat on new ones.
   */
  async pollOnce(options: { wait?: boolean; signal?: AbortSignal } = {}): Promise<{ csrs: number; deployments: number }> {
    const done = { csrs: 0, deployments: 0 };
    const sentAt = performance.now();
    const beat = options.wait === true && this.#beatDue(0.9);
    // While a poll carries the heartbeat (it may wait on the server a whole wait), the backstop
    // must not send another.
    if (beat) this.#beatCarried = true;
    let work: Awaited<ReturnType<AgentClient['work']>>;
    try {
      work = await this.#client.work(options.wait === true ? { waitSeconds: this.#waitSeconds, heartbeat: beat, signal: options.signal } : {});
    } finally {
      if (beat) this.#beatCarried = false;
    }
    if (work.heartbeat === 'recorded') this.#lastBeatAt = sentAt;
    for (let round = 1; ; round++) {
      await inParallel(work.csr, 8, (item) => this.#issue(item)); // key generation and signing overlap
      await this.#deployAll(work.deployments);
      done.csrs += work.csr.length;
      done.deployments += work.deployments.length;
      // A CSR the CA signed at once created deployment jobs for this agent, and a full page of
      // deployments may have more behind it: ask again now, not a poll interval later (a renewal
      // wave reaches the daemons within one interval). Bounded: failed jobs come back only after
      // their backoff, so an empty answer ends it.
      if (round === 10 || (work.csr.length === 0 && work.deployments.length === 0)) return done;
      work = await this.#client.work();
    }
  }

  /** One discovery scan of the configured directories, reported in chunks the server accepts. */
  async discoverOnce(): Promise<{ found: number; new: number; errors: number }> {
    const scan = await scanDirectories(this.#o.discoveryDirs);
    let created = 0;
    for (const chunk of reportChunks(scan)) {
      created += (await this.#client.reportDiscovery(chunk)).certificates_new;
    }
    this.#o.log.info({ found: scan.certificates.length, new: created, errors: scan.errors.length, ms: scan.scan_duration_ms }, 'discovery scan reported');
    return { found: scan.certificates.length, new: created, errors: scan.errors.length };
  }

  async #issue(item: Work['csr'][number]): Promise<void> {
    const allowed = item.allowed_key_algorithms?.map((a) => a.algorithm) ?? [];
    const ecdsa = allowed.length === 0 || allowed.includes('ECDSA');
    const pair = ecdsa ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    // The key is on disk (0600) before the CSR leaves, so a crash never orphans an issued certificate.
    await writePrivate(path.join(this.keysDir, `${item.certificate_id}.pem`), toPem(pair.privateKey.export({ format: 'der', type: 'pkcs8' }), 'PRIVATE KEY'));
    const issued = await this.#client.submitCsr(
      item.certificate_id,
      buildCsr(pair.privateKey, pair.publicKey, item.common_name, [...new Set([item.common_name, ...item.sans])]),
    );
    if (issued.status === 'issuing') this.#o.log.info({ certificateId: item.certificate_id, jobId: issued.job_id }, 'CSR accepted; an external CA is issuing');
    else this.#o.log.info({ certificateId: item.certificate_id, serial: issued.serial_number, deployments: issued.deployments }, 'certificate issued');
  }

  /**
   * Deploys a poll's deployment items: each becomes its connector's plan, and plans for the same
   * daemon go out together (one validation, one reload: deployTogether), then each is reported.
   */
  async #deployAll(items: Work['deployments']): Promise<void> {
    const groups = new Map<string, Array<{ item: Work['deployments'][number]; plan: DeploymentPlan; serial: string }>>();
    await inParallel(items, 8, async (item) => {
      try {
        if (!item.target_config || Object.keys(item.target_config).length === 0) throw new Error(`target ${item.target_id} has no config`);
        const keyPem = await fs.readFile(path.join(this.keysDir, `${item.certificate_id}.pem`), 'utf8').catch(() => {
          throw new Error(`the private key of certificate ${item.certificate_id} is not on this host`);
        });
        const material = deploymentMaterial((await this.#client.certificate(item.certificate_id)).certificate_pem, keyPem, item.certificate_id);
        const plan = planDeployment(item.target_type, item.target_config as TargetConfig, material);
        const key = sameDaemon(plan) ?? item.job_id;
        groups.set(key, [...(groups.get(key) ?? []), { item, plan, serial: material.serial }]);
      } catch (err) {
        if (err instanceof AgentGone) throw err;
        await this.#reported(item, { status: 'failed', reason: (err as Error).message });
      }
    });
    for (const group of groups.values()) {
      const outcomes = await deployTogether(group.map((g) => g.plan));
      for (const [i, { item, serial }] of group.entries()) await this.#reported(item, outcomes[i]!, serial);
    }
  }

  async #reported(item: Work['deployments'][number], outcome: DeploymentOutcome | { status: 'failed'; reason: string }, serial?: string): Promise<void> {
    const report = 'report' in outcome ? outcome.report : undefined;
    const status = outcome.status === 'failed' ? 'Failed' : 'Completed';
    const reason = outcome.status === 'failed' ? outcome.reason : undefined;
    if (reason) this.#o.log.warn({ jobId: item.job_id, target: item.target_id, err: reason }, 'deployment failed');
    try {
      await this.#client.report(item.job_id, status, reason, report);
    } catch (err) {
      // The outcome matters more than its account: a report the server refuses (a newer agent,
      // an older server) must not leave the job Running until it times out.
      if (!(err instanceof ApiError && err.status === 400 && report)) throw err;
      this.#o.log.warn({ jobId: item.job_id, err: err.message }, 'the server refused the deployment report; reporting the outcome alone');
      await this.#client.report(item.job_id, status, reason);
    }
    if (status === 'Failed') return;
    this.#o.log.info({ jobId: item.job_id, target: item.target_id, result: outcome.status, serial }, 'deployed');
  }

  /**
   * A waiting poll, then when the next one goes out: at once after work, or after a poll the
   * server held for its wait; after one answered empty at once (its change feed is down, or it
   * predates waiting) the rest of the poll interval, jittered like the loop's own waits.
   */
  async #pollAndSchedule(stopping: AbortSignal): Promise<number | void> {
    const started = performance.now();
    let done: { csrs: number; deployments: number };
    try {
      done = await this.pollOnce({ wait: true, signal: stopping });
    } catch (err) {
      if (stopping.aborted) return; // the waiting poll was abandoned on purpose
      throw err;
    }
    if (done.csrs > 0 || done.deployments > 0) return 0;
    const intervalMs = this.#o.pollSeconds * 1000 * (0.9 + 0.2 * Math.random());
    const waitedMs = performance.now() - started;
    const held = this.#waitSeconds > 0 && waitedMs >= this.#waitSeconds * 1000 * 0.9;
    return held ? 0 : Math.max(0, intervalMs - waitedMs);
  }

  /** Runs until stopped or retired (410). */
  async run(signal: AbortSignal): Promise<void> {
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let retired!: () => void;
    const gone = new Promise<void>((resolve) => (retired = resolve));
    const stopping = new AbortController();
    const guard = (step: () => Promise<void | number>) => async () => {
      try {
        return await step();
      } catch (err) {
        if (err instanceof AgentGone) {
          retired();
          this.#o.log.warn('this agent was retired: stopping');
          return;
        }
        throw err;
      }
    };
    // The first heartbeat goes out at once: the server learns the agent is up within
    // milliseconds of its start. Later ones, and every poll, are jittered and start after a
    // random delay, so a fleet restarted together spreads out.
    await guard(() => this.heartbeat())().catch((err: unknown) =>
      this.#o.log.warn({ err: (err as Error).message }, 'first heartbeat failed; the loop retries'),
    );
    const loops = [
      // ±10% jitter, a random start, and exponential backoff (up to 10 intervals) while the server is unreachable.
      // Polls carry the heartbeats while they flow (one is carried once 90% due, and the next
      // poll comes within a wait). This loop is the backstop: it sends one only when none went
      // out for an interval plus a wait, which flowing polls never let happen (polls failing, or
      // a server that does not record them).
      new Loop({
        name: 'heartbeat',
        intervalMs: this.#o.heartbeatSeconds * 1000,
        randomStart: true,
        maxBackoffMs: this.#o.heartbeatSeconds * 10_000,
        log: this.#o.log,
        run: guard(() => (!this.#beatCarried && this.#beatDue(1 + this.#waitSeconds / this.#o.heartbeatSeconds) ? this.heartbeat() : Promise.resolve())),
      }),
      new Loop({
        name: 'poll',
        intervalMs: this.#o.pollSeconds * 1000,
        randomStart: true,
        maxBackoffMs: this.#o.pollSeconds * 10_000,
        log: this.#o.log,
        run: guard(() => this.#pollAndSchedule(stopping.signal)),
      }),
    ];
    if (this.#o.discoveryDirs.length > 0) {
      // The first scan runs within a minute of start (spread across a fleet), then every interval.
      const intervalMs = this.#o.discoverySeconds * 1000;
      loops.push(
        new Loop({
          name: 'discovery',
          intervalMs,
          randomStart: true,
          randomStartMs: Math.min(intervalMs, 60_000),
          log: this.#o.log,
          run: guard(async () => void (await this.discoverOnce())),
        }),
      );
    }
    for (const loop of loops) loop.start();
    // The loops' timers are unref'd, so this one timer is what keeps the process alive between
    // ticks (without it Node exits 13 at the first idle moment). It never fires: an idle agent
    // wakes only for its own ticks (a 200 ms check here once cost an idle agent 6 s of CPU an hour).
    const keepAlive = setInterval(() => {}, 2 ** 31 - 1);
    await Promise.race([stopped, gone]);
    clearInterval(keepAlive);
    stopping.abort(); // a poll waiting on the server is abandoned, not sat out

    await Promise.all(loops.map((l) => l.stop()));
  }
}
