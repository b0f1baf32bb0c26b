/**
 * What the agent costs a host (docs/operator/agent.md):
 *   npm run build:agent -- --sea
 *   node --import tsx scripts/measure-agent.ts [--command sources|bundle|sea] [--root DIR]
 *     [--settle-seconds 60] [--idle-seconds 120] [--cycles 1000] [--node-flag=--x ...]
 * starts a `certfleet serve` on an embedded PostgreSQL, then measures one agent process against
 * it, counting what the server answered from its own /metrics:
 * - start: process start to its first heartbeat answered (first start registers; a restart
 *   does not);
 * - idle, at the default intervals: RSS (and RssAnon, the private part) after --settle-seconds,
 *   and CPU (every thread's, from schedstat) and requests over the next --idle-seconds,
 *   extrapolated to an hour;
 * - cycles: RSS after 100 warm-up work polls and at every tenth of --cycles more, at a 10 ms
 *   poll interval, the live heap after each full GC (--trace-gc: RSS also follows V8's heap
 *   sizing; the live heap grows only with a leak), and CPU per cycle.
 * `sources` runs `bin/certfleet.js agent` (TypeScript through tsx) of this checkout or --root;
 * `bundle` runs dist/certfleet-agent.cjs with plain node; `sea` the single executable
 * dist/certfleet-agent. The server is always this checkout's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTarget } from '../loadtest/driver/target.ts';

const { values } = parseArgs({
  options: {
    'idle-seconds': { type: 'string' },
    'settle-seconds': { type: 'string' },
    'node-flag': { type: 'string', multiple: true },
    root: { type: 'string' },
    cycles: { type: 'string' },
    command: { type: 'string' },
  },
});
const idleSeconds = Number(values['idle-seconds'] ?? 120);
const settleSeconds = Number(values['settle-seconds'] ?? 60);
const cycles = Number(values.cycles ?? 1000);
const command = values.command ?? 'sources';
const nodeFlags = values['node-flag'] ?? [];
// --root: another checkout's sources (a before/after comparison); the server is always this one.
const root = path.resolve(values.root ?? path.resolve(import.meta.dirname, '..'));
const bootstrap = `measure-bootstrap-${Date.now()}-0123456789`;
/**
 * CPU time of every thread of `pid`, from /proc/<pid>/task/<tid>/schedstat (nanoseconds on a CPU):
 * utime + stime in /proc/<pid>/stat count 10 ms clock ticks, too coarse for an idle agent (a
 * 10-minute window held 16 of them).
 */
function cpuSecondsOf(pid: number): number {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return ns / 1e9;
}

function procStats(pid: number): { rssMb: number; anonMb: number; cpuSeconds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  // RssAnon: the process's own memory; the rest (RssFile) is mostly the node binary, shared.
  const anonMb = Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  return { rssMb, anonMb, cpuSeconds: cpuSecondsOf(pid) };
}

/**
 * `traceGc`: run with --trace-gc and collect the live heap after each full GC (Mark-Compact)
 * into `liveHeapMb`: RSS also moves with V8's heap sizing, the live heap only with a leak.
 * (Not for the single executable: V8 flags reach it only through NODE_OPTIONS, which refuses this one.)
 */
function agentProcess(url: string, dir: string, extra: string[], traceGc?: { liveHeapMb: number[] }): ChildProcess {
  const args = ['--server', url, '--state-file', path.join(dir, 'state.json'), '--name', path.basename(dir), ...extra];
  const flags = traceGc && command !== 'sea' ? [...nodeFlags, '--trace-gc'] : nodeFlags;
  const forms: Record<string, [string, string[]]> = {
    sources: [process.execPath, [...flags, path.join(root, 'bin/certfleet.js'), 'agent', ...args]],
    bundle: [process.execPath, [...flags, path.join(root, 'dist/certfleet-agent.cjs'), ...args]],
    // Node options reach a single executable through NODE_OPTIONS only; --node-flag is not used.
    sea: [path.join(root, 'dist/certfleet-agent'), args],
  };
  const form = forms[command];
  if (!form) throw new Error(`--command is one of ${Object.keys(forms).join(', ')}`);
  const [bin, argv] = form;
  const child = spawn(bin, argv, {
    env: { PATH: process.env.PATH ?? '', HOME: dir, CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap, CERTFLEET_LOG_LEVEL: 'warn' },
    stdio: ['ignore', traceGc ? 'pipe' : 'ignore', 'inherit'],
  });
  if (traceGc) {
    // "... Mark-Compact 12.8 (45.5) -> 5.3 (43.7) MB, ...": the size after the arrow is live.
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      for (const match of chunk.matchAll(/Mark-Compact[^>]*-> ([\d.]+) \(/g)) traceGc.liveHeapMb.push(Number(match[1]));
    });
  }
  agents.add(child);
  child.once('exit', () => agents.delete(child));
  return child;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-agent-measure-'));
fs.chmodSync(dataDir, 0o755);
const target = await startTarget({ dataDir, env: { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: bootstrap } });
const agents = new Set<ChildProcess>();
// Interrupted: stop what this run started (the server, its PostgreSQL, the agents).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const agent of agents) agent.kill('SIGKILL');
    void target.stop().finally(() => process.exit(130));
  });
}
const results: Record<string, number | string> = { command };
const mb = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests to `route` the server has answered 200 so far (all agents), from its own counter. */
async function answered(route: string): Promise<number> {
  const text = await (await fetch(`${target.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('certfleet_http_requests_total{') && line.includes(`route="${route}"`) && line.includes('status="200"'))
      total += Number(line.split(' ').pop());
  }
  return total;
}
const heartbeats = () => answered('/api/v1/agents/:id/heartbeat');
const workPolls = () => answered('/api/v1/agents/:id/work');

/** Polls `count` every 2 ms until it exceeds `base`; the wait's end is when the server answered. */
async function until(count: () => Promise<number>, base: number, what: string): Promise<void> {
  // 90 s: an agent that waits out a random start delay (up to one 60 s interval) still counts.
  const deadline = Date.now() + 90_000;
  while ((await count()) <= base) {
    if (Date.now() > deadline) throw new Error(`no ${what} within 90 s`);
    await sleep(2);
  }
}

try {
  // A fleet's server is warm: one throwaway agent registers and polls first, so the measured
  // start is the agent's, not the server's first registration (its routes cold).
  const warmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-agent-warm-'));
  const warmUp = agentProcess(target.url, warmDir, ['--once']);
  await new Promise((r) => warmUp.once('exit', r));

  // Start and idle, at the default intervals (heartbeat 60 s, poll 30 s).
  const idleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-agent-idle-'));
  let base = await heartbeats();
  const started = performance.now();
  const idle = agentProcess(target.url, idleDir, []);
  await until(heartbeats, base, 'first heartbeat');
  results.start_to_first_heartbeat_ms = Math.round(performance.now() - started);
  results.startup_cpu_s = procStats(idle.pid!).cpuSeconds;
  // The first minute holds start-up work (V8 compiles, the memory reducer's GCs): RSS is read
  // after it, and the idle CPU window starts after it.
  await sleep(settleSeconds * 1000);
  const before = procStats(idle.pid!);
  const requestsBefore = (await heartbeats()) + (await workPolls());
  results.idle_rss_mb_after_settle = mb(before.rssMb);
  results.idle_rss_anon_mb_after_settle = mb(before.anonMb);
  results.settle_s = settleSeconds;
  await sleep(idleSeconds * 1000);
  const after = procStats(idle.pid!);
  // Heartbeats and polls the server answered in the window (a poll is counted when answered).
  results.idle_requests_per_hour = Math.round(((await heartbeats()) + (await workPolls()) - requestsBefore) * (3600 / idleSeconds));
  results.idle_rss_mb_end = mb(after.rssMb);
  results.idle_window_s = idleSeconds;
  results.idle_cpu_s_in_window = Math.round((after.cpuSeconds - before.cpuSeconds) * 1000) / 1000;
  results.idle_cpu_s_per_hour = Math.round((((after.cpuSeconds - before.cpuSeconds) * 3600) / idleSeconds) * 100) / 100;
  idle.kill('SIGTERM');
  await new Promise((r) => idle.once('exit', r));

  // A restart (the usual start on a host: already registered): process start to the next heartbeat.
  base = await heartbeats();
  const restarted = performance.now();
  const again = agentProcess(target.url, idleDir, []);
  await until(heartbeats, base, 'heartbeat after a restart');
  results.restart_to_first_heartbeat_ms = Math.round(performance.now() - restarted);
  again.kill('SIGTERM');
  await new Promise((r) => again.once('exit', r));

  // Work cycles: a poll every 10 ms, counted by the server; RSS after a warm-up of 100 cycles,
  // then after `cycles` more.
  const busyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-agent-busy-'));
  const pollBase = await workPolls();
  const gc = { liveHeapMb: [] as number[] };
  const busy = agentProcess(target.url, busyDir, ['--poll-interval', '0.01', '--heartbeat-interval', '0.05'], gc);
  const waitFor = async (polls: number) => {
    const deadline = Date.now() + 120_000;
    while ((await workPolls()) - pollBase < polls) {
      if (Date.now() > deadline) throw new Error(`fewer than ${polls} work polls within 120 s`);
      await sleep(200);
    }
  };
  await waitFor(100);
  const warm = procStats(busy.pid!);
  // RSS at every tenth of the run: a young generation growing to its working size levels off;
  // a leak keeps climbing.
  const rssTrail: number[] = [mb(warm.rssMb)];
  for (let step = 1; step <= 10; step++) {
    await waitFor(100 + (cycles * step) / 10);
    rssTrail.push(mb(procStats(busy.pid!).rssMb));
  }
  const end = procStats(busy.pid!);
  results.cycles = cycles;
  results.rss_before_cycles_mb = mb(warm.rssMb);
  results.rss_after_cycles_mb = mb(end.rssMb);
  results.rss_trail_mb = rssTrail.join(' ');
  results.live_heap_after_full_gcs_mb = gc.liveHeapMb.join(' ') || 'no full GC in the run';
  results.cpu_ms_per_cycle = Math.round(((end.cpuSeconds - warm.cpuSeconds) * 1000 * 100) / cycles) / 100; // a poll, plus heartbeats every 50 ms
  busy.kill('SIGTERM');
  process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  await target.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
