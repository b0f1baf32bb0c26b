/**
 * Where the machine's CPU went during a measured run: the driver itself, the servers it started,
 * PostgreSQL, Pebble, and everything else, as shares of the machine (cores x seconds), read from
 * /proc (Linux). On two shared cores the driver's share is CPU the server did not get: a report
 * that does not say it cannot tell a slower server from a busier driver.
 *
 * Processes are the driver's descendants (it starts PostgreSQL, the servers and Pebble), told
 * apart by their command line. A process that exits inside the window loses its CPU: the window
 * is a measured run, where nothing is started or stopped.
 */
import fs from 'node:fs';
import os from 'node:os';

export type CpuGroup = 'driver' | 'server' | 'postgres' | 'pebble' | 'other_descendants';

interface Snapshot {
  at: number;
  /** Clock ticks per group. */
  ticks: Map<CpuGroup, number>;
  /** Busy and total ticks of the whole machine (/proc/stat). */
  machineBusy: number;
}

/** USER_HZ: Linux reports process times in 1/100 s on every architecture Node supports. */
const ticksPerSecond = 100;

function readStat(pid: string): { ppid: string; ticks: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: fields[1]!, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

function groupOf(pid: string): CpuGroup {
  if (pid === String(process.pid)) return 'driver';
  let cmd = '';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return 'other_descendants';
  }
  if (/\bpostgres\b|postgres:/.test(cmd)) return 'postgres';
  if (/certfleet(\.js)? serve\b/.test(cmd)) return 'server';
  // Pebble itself, not pebble-challtestsrv (--acme-mode challenge's DNS: other_descendants).
  if (/(^|\/)pebble(\s|$)/.test(cmd)) return 'pebble';
  return 'other_descendants';
}

function machineBusyTicks(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  return cpu.slice(0, 8).reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
}

function snapshot(): Snapshot {
  const at = performance.now();
  const stats = new Map<string, { ppid: string; ticks: number }>();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const self = String(process.pid);
  const children = new Map<string, string[]>();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const ticks = new Map<CpuGroup, number>();
  const walk = [self];
  while (walk.length > 0) {
    const pid = walk.pop()!;
    const group = groupOf(pid);
    ticks.set(group, (ticks.get(group) ?? 0) + (stats.get(pid)?.ticks ?? 0));
    walk.push(...(children.get(pid) ?? []));
  }
  return { at, ticks, machineBusy: machineBusyTicks() };
}

/** Starts a window; `stop()` gives each group's share of the machine, and CPU ms per unit of work. */
export function cpuWindow(): { stop(units: number): Record<string, number> } | undefined {
  if (process.platform !== 'linux' || !fs.existsSync('/proc/self/stat')) return undefined;
  const start = snapshot();
  return {
    stop(units) {
      const end = snapshot();
      const capacity = ((end.at - start.at) / 1000) * ticksPerSecond * os.availableParallelism();
      const out: Record<string, number> = {};
      let ours = 0;
      for (const [group, ticks] of end.ticks) {
        const used = Math.max(0, ticks - (start.ticks.get(group) ?? 0));
        if (used === 0) continue;
        ours += used;
        out[`cpu_share_${group}`] = round(used / capacity);
        if (units > 0) out[`cpu_ms_per_request_${group}`] = round(((used / ticksPerSecond) * 1000) / units);
      }
      const busy = end.machineBusy - start.machineBusy;
      out.cpu_share_rest_of_machine = round(Math.max(0, busy - ours) / capacity);
      out.cpu_share_idle = round(Math.max(0, capacity - busy) / capacity);
      return out;
    },
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
