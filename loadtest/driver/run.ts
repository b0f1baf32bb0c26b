/**
 * npm run loadtest -- <scenario> [--rate R] [--duration 60s] [--connections C]
 *   [--executor constant-arrival-rate|max-throughput] [--agents N] [--certificates N] [--fleet N] [--acme N] [--seed-secret S]
 *   [--url U --database-url D --admin-key K] [--out DIR] [--warmup 15s]
 *   [--server-env K=V ...] [--server-node-arg FLAG ...] [--server-log FILE] [--postgres-log FILE] [--profile DIR] [--smoke]
 *   [--replicas N] [--compare <git-ref> [--rounds N]] [--sample-every 10]
 *   [--target certfleet|pebble [--rounds N]] [--tls-cert PEM --tls-key PEM] [--acme-mode trust|challenge]
 *   [--statements]
 * npm run loadtest -- rotation_to_served [--targets N] [--agents M] [--poll-interval S] [--smoke]: see rotation.ts
 * npm run loadtest -- nginx_handshake|apache_handshake|haproxy_handshake [--rate R] [--duration D] [--connections C] [--smoke]: see handshake.ts
 *
 * Runs one scenario of loadtest/scenarios: starts `certfleet serve` on an embedded PostgreSQL
 * (or targets --url, loopback only unless --allow-remote-target), seeds it, drives it with a
 * live progress line, prints a summary, writes loadtest/results/<scenario>-<time>.{json,html},
 * and exits 1 when a threshold or a check fails. --smoke (CI): a short run where only errors,
 * drops and failed checks fail; latency thresholds are reported (machines under test are noisy).
 * --replicas N: N `certfleet serve` processes on the one embedded PostgreSQL, connections (or
 * flows) spread across them round-robin; the report has each replica's figures and the total.
 * A scenario's own warm-up is per replica (each replica's caches fill apart): without --warmup,
 * N replicas warm up N times as long.
 * --compare <git-ref>: the same scenario against a worktree of the ref and the current tree,
 * alternating, with both figures and their ratio (compare.ts).
 * --target pebble (acme_flow, acme_directory, acme_new_nonce): the same load against Debian's Pebble and against
 * certfleet, alternating for --rounds rounds (default 2), both over HTTPS with one loopback
 * certificate, with both figures and the ratio certfleet / Pebble (pebble.ts).
 * --tls-cert/--tls-key: certfleet serves HTTPS with them. The request engine trusts the
 * certificate itself; flow scenarios (fetch) need it in NODE_EXTRA_CA_CERTS.
 * --acme-mode challenge (ACME flow scenarios): orders under profile load-acme-challenge, whose
 * authorizations certfleet validates for real: http-01 against the driver's own responder, names
 * resolved by pebble-challtestsrv to 127.0.0.1 (challenge-responder.ts). Default trust: profile
 * load-acme issues to EAB-bound accounts without challenges. Pebble's VA answers valid either way.
 * --statements: the embedded PostgreSQL counts statements (pg_stat_statements); after the run the
 * statements with the most database time, those the server sent most often and the rows written
 * per table are printed, per request or flow (statements.ts).
 * --postgres-log FILE: PostgreSQL's log (checkpoints, lock waits, autovacuum, statements over
 * 200 ms) in FILE, to line a latency tail up with (the report's per-second figures).
 * --sample-every S: scenarios that name `tables` get their row counts sampled every S seconds
 * (default 10); a table a GC should keep bounded that still grows in the second half of a run
 * long enough to judge fails it (table-growth.ts).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { delayBeyond, prepareRequest, runLoad, type PreparedRequest, type Progress } from './engine.ts';
import { eventLoopSamplingMs } from '../../src/observability/metrics.ts';
import { cpuWindow } from './cpu-split.ts';
import { runFlows } from './flows.ts';
import { runRotation, type RotationScenario } from './rotation.ts';
import { runHandshake, type HandshakeScenario } from './handshake.ts';
import { renderHtml, type Report } from './report.ts';
import { loadScenario, parseDuration, runSetup, scenarioContext } from './scenario.ts';
import { runSeed } from './seed.ts';
import { evaluateThresholds, summarize } from './stats.ts';
import { startTarget, type Target } from './target.ts';
import { checks } from './checks.ts';
import { compare } from './compare.ts';
import { databaseCostSince, databaseCountersBefore } from './database-cost.ts';
import { judgeTables, sampleTables } from './table-growth.ts';
import { startPebble, versusPebble } from './pebble.ts';
import { startChallengeResponder } from './challenge-responder.ts';
import { acmeAccountsFor, defaultNewOrdersPerHour } from './acme.ts';
import { startStatements } from './statements.ts';

/** The profile `--acme-mode challenge` orders under (loadtest/seed/acme.sql). */
const challengeProfile = 'load-acme-challenge';

const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

function positiveNumber(v: string | undefined, fallback: number, what: string): number {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isFinite(n) || n <= 0) fail(`${what} must be a positive number`);
  return n;
}

function fail(message: string): never {
  process.stderr.write(`loadtest: ${message}\n`);
  process.exit(2);
}

/** The header comment's usage lines, for --help and for a mistyped option (read only then). */
const usage = () => (fs.readFileSync(import.meta.filename, 'utf8').match(/^\/\*\*\n((?: \*.*\n)+?) \*\n/)?.[1] ?? '').replace(/^ \* ?/gm, '');

function parseOptions() {
  try {
    return parseArgs({ allowPositionals: true, options: driverOptions });
  } catch (err) {
    // An unknown or malformed option: say which, and how it is used, not a stack trace.
    return fail(`${(err as Error).message.split('. ')[0]}\n${usage()}`);
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  const { values, positionals } = parseOptions();
  return run(values, positionals);
}

const driverOptions = {
  rate: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  executor: { type: 'string' },
  agents: { type: 'string' },
  certificates: { type: 'string' },
  fleet: { type: 'string' },
  acme: { type: 'string' },
  'seed-secret': { type: 'string' },
  url: { type: 'string' },
  'database-url': { type: 'string' },
  'admin-key': { type: 'string' },
  out: { type: 'string' },
  'server-env': { type: 'string', multiple: true },
  profile: { type: 'string' },
  'server-log': { type: 'string' },
  'postgres-log': { type: 'string' },
  'server-node-arg': { type: 'string', multiple: true },
  'allow-remote-target': { type: 'boolean' },
  smoke: { type: 'boolean' },
  compare: { type: 'string' },
  rounds: { type: 'string' },
  replicas: { type: 'string' },
  targets: { type: 'string' },
  'poll-interval': { type: 'string' },
  'sample-every': { type: 'string' },
  target: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'acme-mode': { type: 'string' },
  statements: { type: 'boolean' },
} as const;

async function run(values: ReturnType<typeof parseOptions>['values'], positionals: string[]): Promise<number> {
  const name = positionals[0];
  // 'pebble-only' is the Pebble side of a `--target pebble` run (pebble.ts starts it once per round).
  const targetKind = values.target ?? 'certfleet';
  if (!['certfleet', 'pebble', 'pebble-only'].includes(targetKind)) fail('--target must be certfleet or pebble');
  if ((values.compare !== undefined || targetKind === 'pebble') && name) {
    const rounds = Number(values.rounds ?? 2);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) fail('--rounds must be 1..20');
    // Every other option goes to each side's run unchanged.
    const own = ['--compare', '--rounds', '--out', '--target'];
    const passed = process.argv.slice(2).filter((a, i, all) => {
      if (own.includes(a.split('=')[0]!)) return false;
      return !own.includes(all[i - 1]!) && a !== name;
    });
    if (values.compare !== undefined && targetKind === 'pebble') fail('--compare and --target pebble: one side-by-side at a time');
    if (values.compare !== undefined) return compare({ scenario: name, ref: values.compare, rounds, args: passed });
    const scenario = await loadScenario(name);
    if (!(scenario.flow && scenario.acme) && !scenario.pebble) {
      fail(`--target pebble runs ACME flow scenarios (acme_flow) and ACME entry points (acme_directory, acme_new_nonce); ${name} is neither`);
    }
    return versusPebble({ scenario: name, rounds, args: passed });
  }
  if (!name)
    fail(
      'usage: npm run loadtest -- <scenario> [options]; scenarios: ' +
        fs
          .readdirSync(path.resolve(import.meta.dirname, '../scenarios'))
          .map((f) => f.replace(/\.js$/, ''))
          .join(', '),
    );
  const scenario = await loadScenario(name);
  if (scenario.kind === 'handshake') {
    const handshake = scenario as unknown as HandshakeScenario;
    return runHandshake(handshake, {
      rate: positiveNumber(values.rate, values.smoke ? 50 : handshake.rate, '--rate'),
      durationMs: parseDuration(values.duration ?? (values.smoke ? '2s' : handshake.duration)),
      connections: Math.floor(positiveNumber(values.connections, handshake.connections, '--connections')),
      outDir: path.resolve(values.out ?? path.resolve(import.meta.dirname, '../results')),
      smoke: values.smoke ?? false,
    });
  }
  if (scenario.kind === 'rotation') {
    const rotation = scenario as unknown as RotationScenario;
    const count = (v: string | undefined, fallback: number, what: string) => {
      const n = v === undefined ? fallback : Number(v);
      if (!Number.isInteger(n) || n <= 0) fail(`${what} must be a positive integer`);
      return n;
    };
    const targets = count(values.targets, values.smoke ? 6 : rotation.targets, '--targets');
    const agents = count(values.agents, values.smoke ? 2 : rotation.agents, '--agents');
    if (agents > targets) fail('--agents: at most one agent per target');
    return runRotation(rotation, {
      targets,
      agents,
      pollSeconds: count(values['poll-interval'], values.smoke ? 2 : rotation.pollSeconds, '--poll-interval'),
      outDir: path.resolve(values.out ?? path.resolve(import.meta.dirname, '../results')),
      smoke: values.smoke ?? false,
    });
  }
  const positive = (v: string | undefined, fallback: number, what: string) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isFinite(n) || n <= 0) fail(`${what} must be a positive number`);
    return n;
  };
  const rate = positive(values.rate, scenario.rate, '--rate');
  const durationMs = parseDuration(values.duration ?? scenario.duration);
  const connections = Math.floor(positive(values.connections, scenario.connections, '--connections'));
  const executor = (values.executor ?? scenario.executor) as 'constant-arrival-rate' | 'max-throughput';
  if (executor !== 'constant-arrival-rate' && executor !== 'max-throughput') fail('--executor must be constant-arrival-rate or max-throughput');
  const seedCounts: Record<string, number> = { ...scenario.seed };
  for (const kind of ['agents', 'certificates', 'fleet', 'acme'] as const) {
    if (values[kind] !== undefined && kind in seedCounts) seedCounts[kind] = Math.floor(positive(values[kind], 1, `--${kind}`));
  }
  const seedSecret = values['seed-secret'] ?? 'certfleet-load';
  // Everything that can refuse the run is checked before a server starts (fail() exits).
  const check = scenario.verify ? checks[scenario.verify] : undefined;
  if (scenario.verify && !check) fail(`scenario ${scenario.name}: unknown check ${scenario.verify}`);
  if (scenario.flow && executor !== 'constant-arrival-rate') fail(`scenario ${scenario.name} is a flow: only constant-arrival-rate`);
  if (!scenario.flow && !scenario.request) fail(`scenario ${scenario.name} has neither request nor flow`);
  const replicas = Math.floor(positive(values.replicas, 1, '--replicas'));
  if (replicas > 16) fail('--replicas: at most 16 on one machine');
  // Each replica fills its own caches (100,000 agent keys each for agent_storm): measured with
  // the scenario's warm-up alone, two replicas were still loading keys in the measured window.
  const warmupMs = values.warmup !== undefined ? parseDuration(values.warmup) : parseDuration(scenario.warmup ?? '0s') * replicas;
  if (replicas > 1 && values.url) fail('--replicas starts its own servers: not with --url');
  if (replicas > connections) fail(`--replicas ${replicas} needs at least as many --connections`);
  const tls = values['tls-cert'] && values['tls-key'] ? { certPath: path.resolve(values['tls-cert']), keyPath: path.resolve(values['tls-key']) } : undefined;
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) fail('--tls-cert and --tls-key go together');
  const pebble = targetKind === 'pebble-only';
  if (pebble && !tls) fail('--target pebble-only needs --tls-cert and --tls-key (use --target pebble)');
  // certfleet's own options (--server-env, --profile, seeds ...) do not apply to Pebble.
  if (pebble && (values.url || replicas > 1)) fail('--target pebble: not with --url or --replicas');

  const acmeMode = values['acme-mode'] ?? 'trust';
  if (acmeMode !== 'trust' && acmeMode !== 'challenge') fail('--acme-mode must be trust or challenge');
  if (acmeMode === 'challenge' && !scenario.acme) fail(`--acme-mode: ACME flow scenarios only; ${scenario.name} is not one`);
  if (values.statements && values.url) fail('--statements configures the PostgreSQL it starts: not with --url');
  if (acmeMode === 'challenge' && values.url) fail('--acme-mode challenge configures the server it starts: not with --url');
  // Pebble's VA answers valid without connecting: no responder for its side.
  const responder = acmeMode === 'challenge' && !pebble ? await startChallengeResponder() : undefined;
  const serverEnv: Record<string, string> = {
    ...responder?.serverEnv,
    ...Object.fromEntries((values['server-env'] ?? []).map((kv) => kv.split(/=(.*)/s).slice(0, 2) as [string, string])),
  };
  // Step 1: the target.
  let target: Target;
  let ownData: string | undefined;
  if (pebble) {
    ownData = fs.mkdtempSync(path.join(os.tmpdir(), `certfleet-load-pebble-`));
    process.stderr.write('starting pebble (in memory)\n');
    target = await startPebble(ownData, tls!);
  } else if (values.url) {
    const url = new URL(values.url);
    if (!loopback.test(url.hostname) && !values['allow-remote-target']) {
      fail(`refusing to load ${url.hostname}: only loopback targets (127.0.0.0/8, ::1, localhost) unless --allow-remote-target`);
    }
    if (!values['database-url']) fail('--url needs --database-url (to seed and to verify durability)');
    const given = values.url.replace(/\/+$/, '');
    target = { url: given, urls: [given], databaseUrl: values['database-url'], adminKey: values['admin-key'] ?? '', stop: async () => undefined };
  } else {
    ownData = fs.mkdtempSync(path.join(os.tmpdir(), `certfleet-load-${scenario.name}-`));
    fs.chmodSync(ownData, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
    process.stderr.write(`starting certfleet serve on an embedded PostgreSQL in ${ownData}\n`);
    target = await startTarget({
      dataDir: ownData,
      env: { ...serverEnv, ...(tls ? { CERTFLEET_TLS_CERT_PATH: tls.certPath, CERTFLEET_TLS_KEY_PATH: tls.keyPath } : {}) },
      nodeArgs: [...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : []), ...(values['server-node-arg'] ?? [])],
      ...(values['server-log'] ? { logFile: path.resolve(values['server-log']) } : {}),
      ...(values['postgres-log'] ? { postgresLog: path.resolve(values['postgres-log']) } : {}),
      ...(values.statements ? { statements: true } : {}),
      replicas,
    });
  }
  // Ctrl-C (or SIGTERM) mid-run still stops the server and its embedded PostgreSQL.
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nloadtest: ${signal}, stopping the server\n`);
    void Promise.all([target.stop(), responder?.stop()]).finally(() => {
      if (ownData) fs.rmSync(ownData, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    // certfleet's database: seeds, checks and costs (Pebble has none).
    const databaseUrl = target.databaseUrl;
    // Step 2: seed (loadtest/seed/<kind>.sql for each count the scenario names).
    for (const [kind, count] of Object.entries(databaseUrl ? seedCounts : {})) {
      const started = Date.now();
      await runSeed(databaseUrl!, `${kind}.sql`, count, seedSecret, (done, total) => process.stderr.write(`\rseeding ${kind} ${done}/${total}`));
      process.stderr.write(` (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    }
    const ctx = scenarioContext(target, seedCounts, seedSecret);
    await runSetup(scenario, ctx, {
      ...(scenario.acme
        ? {
            accounts: acmeAccountsFor(
              scenario.acme.accounts,
              rate * ((durationMs + warmupMs) / 1000),
              Number(serverEnv.CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR ?? defaultNewOrdersPerHour),
            ),
          }
        : {}),
      ...(acmeMode === 'challenge' ? { profile: challengeProfile } : {}),
      ...(responder ? { responder } : {}),
    });

    // Step 3: warm up, then run.
    const host = new URL(target.url);
    const cycle = scenario.cycle?.(ctx);
    const prepared: PreparedRequest[] = [];
    const requestOf = (k: number) => prepareRequest(host.host, scenario.request!(k, ctx));
    const request = (k: number): PreparedRequest => {
      if (cycle === undefined) return requestOf(k);
      const i = k % cycle;
      return (prepared[i] ??= requestOf(i));
    };
    // The measured run continues the warm-up's request numbers (requests that create things,
    // like api_tier's POSTs, must never repeat).
    let offset = 0;
    const onTick = (p: Progress) =>
      process.stderr.write(`\r  ${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  sent ${p.scheduled}  done ${p.completed}  errors ${p.errors}   `);
    const load = (ms: number) =>
      scenario.flow
        ? runFlows({ baseUrls: target.urls, flow: scenario.flow, ctx, rate, concurrency: connections, durationMs: ms, offset, onTick })
        : runLoad({
            host: host.hostname.replace(/^\[|\]$/g, ''),
            port: Number(host.port),
            targets: target.urls.map((u) => ({ host: new URL(u).hostname.replace(/^\[|\]$/g, ''), port: Number(new URL(u).port) })),
            connections,
            executor,
            rate,
            durationMs: ms,
            // The request engine speaks HTTPS when the target does, trusting --tls-cert.
            ...(host.protocol === 'https:' ? { tls: tls ? { ca: fs.readFileSync(tls.certPath) } : {} } : {}),
            request: (k) => request(k + offset),
            onTick,
          });
    let warmup: Report['warmup'];
    if (warmupMs > 0) {
      process.stderr.write(`warm-up: ${warmupMs / 1000} s (not measured)\n`);
      const warm = await load(warmupMs);
      offset = warm.scheduled;
      const w = summarize(warm);
      warmup = {
        duration_s: warmupMs / 1000,
        achieved_rate: w.achieved_rate,
        dropped: w.dropped,
        failed: w.failed,
        p50_ms: w.latency_ms.p50,
        p99_ms: w.latency_ms.p99,
      };
      process.stderr.write('\n');
    }
    const before = databaseUrl ? await check?.before(databaseUrl) : undefined;
    const databaseBefore = databaseUrl ? await databaseCountersBefore(databaseUrl) : undefined;
    const checkResults0: Record<string, number | boolean> = {};
    if (!pebble) await Promise.all(target.urls.map(serverLag)); // prom-client resets the lag histogram on each scrape
    process.stderr.write(
      `${scenario.name}: ${executor} ${executor === 'constant-arrival-rate' ? `${rate}/s ` : ''}for ${durationMs / 1000} s on ${connections} connections -> ${target.urls.join(', ')}\n`,
    );
    // Smoke runs are short: the leader's loops (renewal sweep, expiry alerts, job timeouts ...)
    // would not get to run before they end. Running each once mid-run puts the state a long run
    // reaches into every smoke, so a scenario whose expectations break when they run fails in CI.
    const loopsRun = values.smoke && !pebble ? runLoopsAfter(target, durationMs / 2) : undefined;
    const tableSampler =
      scenario.tables && databaseUrl ? sampleTables(databaseUrl, scenario.tables, positive(values['sample-every'], 10, '--sample-every') * 1000) : undefined;
    const statements = values.statements && databaseUrl ? await startStatements(databaseUrl) : undefined;
    const cpu = cpuWindow();
    const result = await load(durationMs);
    const cpuSplit = cpu?.stop(result.completed);
    const tables = tableSampler && scenario.tables ? judgeTables(await tableSampler.stop(), scenario.tables, serverEnv) : undefined;
    if (loopsRun) checkResults0.loops_run_mid_run = await loopsRun;
    // The worst replica's event-loop lag (one replica: its own).
    const lag = (pebble ? [] : await Promise.all(target.urls.map(serverLag))).reduce<Record<string, number>>((worst, r) => {
      for (const [k, v] of Object.entries(r)) worst[k] = Math.max(worst[k] ?? 0, v);
      return worst;
    }, {});
    process.stderr.write('\n');

    // Step 4: summarise, check, report.
    const summary = summarize(result);
    // Flow scenarios count flows as their "requests"; the HTTP requests they made are listed too.
    const checkResults: Record<string, number | boolean> = {
      ...checkResults0,
      ...(check && databaseUrl ? await check.after(databaseUrl, before, summary) : {}),
      ...(databaseUrl && databaseBefore ? await databaseCostSince(databaseUrl, databaseBefore, summary.completed) : {}),
      ...lag,
      ...cpuSplit,
      ...tables?.checks,
    };
    if (tables) process.stderr.write(`${tables.lines.join('\n')}\n`);
    if ('requests' in result) checkResults.http_requests = result.requests as number;
    if (responder) {
      // Every validation fetched an answer the driver had provided (an unknown token is a bug).
      const served = responder.served();
      checkResults.http01_answers_served = served.answered;
      checkResults.http01_unknown_tokens = served.unknown;
    }
    const thresholds = evaluateThresholds(scenario.thresholds, summary);
    // An open-loop run that could not send its requests on time did not sustain the rate.
    // --smoke (CI): latency thresholds are reported but do not decide; errors and losses do.
    const ok =
      (values.smoke ? summary.failed === 0 : thresholds.every((t) => t.ok)) &&
      checkResults.ok !== false &&
      checkResults.tables_bounded !== false &&
      summary.dropped === 0;
    const report: Report = {
      scenario: scenario.name,
      description: scenario.description,
      started_at: new Date(result.startedAt).toISOString(),
      environment: await environment(databaseUrl),
      options: {
        executor,
        rate,
        ...(values.smoke ? { mode: 'smoke (latency thresholds not enforced)' } : {}),
        duration_s: durationMs / 1000,
        connections,
        ...seedCounts,
        target: pebble ? 'pebble (in memory)' : values.url ? 'external' : 'embedded (fsync on)',
        ...(tls ? { tls: 'HTTPS (loopback certificate)' } : {}),
        ...(replicas > 1 ? { replicas } : {}),
        ...(scenario.acme ? { acme_mode: acmeMode } : {}),
      },
      ...(warmup ? { warmup } : {}),
      summary,
      thresholds,
      checks: checkResults,
      ok,
    };
    const outDir = path.resolve(values.out ?? path.resolve(import.meta.dirname, '../results'));
    fs.mkdirSync(outDir, { recursive: true });
    const base = path.join(outDir, `${scenario.name}-${report.started_at.replace(/[:.]/g, '-')}`);
    fs.writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    fs.writeFileSync(`${base}.html`, renderHtml(report));
    printSummary(report);
    if (statements) process.stdout.write(`\n${await statements.report(summary.completed, scenario.flow ? 'flow' : 'request')}`);
    process.stderr.write(`report: ${base}.json and .html\n`);
    return ok ? 0 : 1;
  } finally {
    await target.stop();
    await responder?.stop();
    if (ownData) fs.rmSync(ownData, { recursive: true, force: true });
  }
}

function printSummary(report: Report): void {
  const s = report.summary;
  const l = s.latency_ms;
  const lines = [
    `requests ${s.requests}  completed ${s.completed}  achieved ${s.achieved_rate}/s  failed ${s.failed}  dropped ${s.dropped}${s.dropped ? ' (rate not sustained)' : ''}`,
    `latency ms  p50 ${l.p50}  p90 ${l.p90}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  (driver event-loop lag p99 ${s.generator_lag_ms.p99} max ${s.generator_lag_ms.max})`,
    ...(s.per_replica ?? []).map((r) => `  replica ${r.replica}: completed ${r.completed}  achieved ${r.achieved_rate}/s  p50 ${r.p50_ms}  p99 ${r.p99_ms}`),
    `status ${JSON.stringify(s.status)}${Object.keys(s.failures).length ? `  failures ${JSON.stringify(s.failures)}` : ''}`,
    ...(report.warmup ? [`warm-up (not measured) ${JSON.stringify(report.warmup)}`] : []),
    ...Object.entries(report.checks).map(([k, v]) => `check ${k}: ${v}`),
    ...report.thresholds.map((t) => `threshold ${t.metric} ${t.expression}: ${t.actual} ${t.ok ? 'ok' : 'FAILED'}`),
    report.ok ? 'PASSED' : 'FAILED',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * After `delayMs`, asks the leader to run every singleton loop once and waits (bounded) until
 * each has finished a run. Resolves with how many loops ran.
 */
async function runLoopsAfter(target: Target, delayMs: number): Promise<number> {
  await new Promise((r) => setTimeout(r, delayMs));
  const headers = { authorization: `Bearer ${target.adminKey}` };
  // The leader runs the loops and counts their runs; with replicas it may be any of them.
  let leaderUrl = target.url;
  for (const url of target.urls) {
    const health = (await (await fetch(`${url}/health`)).json()) as { leader?: boolean };
    if (health.leader) leaderUrl = url;
  }
  type Loops = { data: Array<{ name: string; runs: number; running: boolean }> };
  const list = async () => ((await (await fetch(`${leaderUrl}/api/v1/scheduler/loops`, { headers })).json()) as Loops).data;
  const before = new Map((await list()).map((l) => [l.name, l.runs]));
  for (const name of before.keys()) await fetch(`${leaderUrl}/api/v1/scheduler/loops/${name}/run`, { method: 'POST', headers });
  const deadline = Date.now() + 10_000;
  let done = 0;
  while (Date.now() < deadline) {
    const loops = await list();
    done = loops.filter((l) => l.runs > (before.get(l.name) ?? 0) && !l.running).length;
    if (done === before.size) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return done;
}

/**
 * The server's event-loop delay since the previous scrape (/metrics; empty if unavailable): the
 * series less their sampling period, as the driver's own (engine.ts lagMonitor).
 */
async function serverLag(url: string): Promise<Record<string, number>> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const read = (name: string) => delayBeyond(Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? Number.NaN) * 1e9, eventLoopSamplingMs);
    const out = {
      server_event_loop_lag_p99_ms: read('nodejs_eventloop_lag_p99_seconds'),
      server_event_loop_lag_max_ms: read('nodejs_eventloop_lag_max_seconds'),
    };
    return Object.fromEntries(
      Object.entries(out)
        .filter(([, v]) => Number.isFinite(v))
        .map(([k, v]) => [k, Math.round(v * 100) / 100]),
    );
  } catch {
    return {};
  }
}

async function environment(databaseUrl: string | undefined): Promise<Record<string, string | number>> {
  let pgVersion = 'none';
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    pgVersion = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    await client.end();
  }
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    openssl: process.versions.openssl ?? '',
    postgres: pgVersion,
    os: `${os.type()} ${os.release()}`,
    commit,
    load_generator: 'same machine (loadtest/driver, one Node process)',
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadtest: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
