/**
 * What waiting work polls cost a server, and how fast a bulk renewal reaches them
 * (docs/operator/scale.md):
 *   node --import tsx scripts/measure-waiting-polls.ts [--agents 5000]
 * starts a `certfleet serve` on an embedded PostgreSQL, seeds N agents each with one File target
 * serving one certificate it already holds a leaf for (so it has no work), opens one waiting poll
 * per agent (`?wait=55`, one connection each, as N idle agents would), and reads from the server's
 * /metrics: its RSS before and with every poll waiting, and its CPU over 10 s without polls and
 * over 10 s of waiting. Then a
 * bulk renewal of all N certificates: the time from its answer until each poll got its Renewal
 * item. Loopback only; N sockets on each side (mind `ulimit -n`).
 */
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadAgentId, loadAgentKey, runSeed } from '../loadtest/driver/seed.ts';
import { quantile } from '../loadtest/driver/stats.ts';
import { startTarget } from '../loadtest/driver/target.ts';

const { values } = parseArgs({ options: { agents: { type: 'string' } } });
const agents = Number(values.agents ?? 5000);
if (!(Number.isInteger(agents) && agents > 0 && agents <= 9000)) throw new Error('--agents is 1..9000 (two sockets each, ulimit -n)');
const seed = 'waiting-polls';
const waitSeconds = 55;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-waiting-polls-'));
fs.chmodSync(dataDir, 0o755);
const target = await startTarget({ dataDir });
const client = new http.Agent({ keepAlive: true, maxSockets: Infinity });

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${target.url}/metrics`)).text();
  return Number(new RegExp(`^${name} ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
}

function get(url: string, key: string): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: client, headers: { authorization: `Bearer ${key}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, at: performance.now() }));
    });
    req.on('error', reject);
  });
}

let renewing: number | undefined;
try {
  for (const file of ['agents.sql', 'certificates.sql', 'fleet.sql']) await runSeed(target.databaseUrl, file, agents, seed);
  // Each agent already holds a leaf of its certificate: no Enrollment work, so its poll waits.
  const db = new pg.Client({ connectionString: target.databaseUrl });
  await db.connect();
  await db.query(
    `INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256, pem_chain, agent_id)
     SELECT 'waiting-ver-' || i, 'load-cert-' || lpad(i::text, 7, '0'), to_hex(i), now(), now() + interval '90 days',
            md5('waiting-' || i) || md5('polls-' || i), 'placeholder', 'load-agent-' || lpad(i::text, 7, '0')
       FROM generate_series(1, $1::int) AS i ON CONFLICT DO NOTHING`,
    [agents],
  );
  await db.end();

  const rssBefore = await metric('process_resident_memory_bytes');
  // The server's own idle CPU (its loops, with N agents seeded), for comparison with the waiting window.
  const cpuIdleStart = await metric('process_cpu_seconds_total');
  await sleep(10_000);
  const cpuIdle = (await metric('process_cpu_seconds_total')) - cpuIdleStart;
  // Opened at 1,000 a second (a fleet's polls arrive spread out), then 5 s to settle.
  const opened = performance.now();
  let early = 0;
  const polls: Array<Promise<{ status: number; body: string; at: number }>> = [];
  for (let i = 0; i < agents; i++) {
    const id = loadAgentId(i + 1);
    const poll = get(`${target.url}/api/v1/agents/${id}/work?wait=${waitSeconds}`, loadAgentKey(seed, id));
    void poll.then(() => (early += renewing === undefined ? 1 : 0));
    polls.push(poll);
    if (i % 100 === 99) await sleep(Math.max(0, opened + (i + 1) - performance.now()));
  }
  await sleep(5_000);
  const waiting = await metric('certfleet_agent_work_polls_waiting');
  if (waiting !== agents || early > 0) throw new Error(`${waiting} of ${agents} polls waiting, ${early} answered before the renewal`);
  const allWaitingMs = performance.now() - opened;
  const rssWaiting = await metric('process_resident_memory_bytes');
  const cpuBefore = await metric('process_cpu_seconds_total');
  await sleep(10_000);
  const cpuWaiting = (await metric('process_cpu_seconds_total')) - cpuBefore;

  renewing = performance.now();
  const renewal = await fetch(`${target.url}/api/v1/certificates/bulk-renew`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ issuer_id: 'load-issuer' }),
  });
  const acknowledged = performance.now();
  if (renewal.status !== 200) throw new Error(`bulk renewal answered ${renewal.status}: ${await renewal.text()}`);
  const answers = await Promise.all(polls);
  const withRenewal = answers.filter((a) => a.status === 200 && (JSON.parse(a.body) as { csr: Array<{ type: string }> }).csr.some((c) => c.type === 'Renewal'));
  const after = Float64Array.from(answers.map((a) => a.at - acknowledged)).sort();
  const others = answers.filter((a) => !withRenewal.includes(a));
  if (others.length > 0)
    process.stderr.write(
      `not a renewal: ${others.length}, e.g. ${others[0]!.status} ${others[0]!.body.slice(0, 300)} at ${Math.round(others[0]!.at - acknowledged)} ms\n`,
    );
  process.stdout.write(
    `${JSON.stringify({
      agents,
      opened_and_settled_ms: Math.round(allWaitingMs),
      server_rss_mb_before: Math.round(rssBefore / 1e5) / 10,
      server_rss_mb_all_waiting: Math.round(rssWaiting / 1e5) / 10,
      server_rss_kb_per_waiting_poll: Math.round((rssWaiting - rssBefore) / agents / 102.4) / 10,
      server_cpu_s_per_10s_no_polls: Math.round(cpuIdle * 1000) / 1000,
      server_cpu_s_per_10s_waiting: Math.round(cpuWaiting * 1000) / 1000,
      bulk_renewal_ms: Math.round(acknowledged - renewing),
      answered_with_renewal: withRenewal.length,
      answered_after_renewal_p50_ms: Math.round(quantile(after, 0.5)),
      answered_after_renewal_p99_ms: Math.round(quantile(after, 0.99)),
      answered_after_renewal_max_ms: Math.round(after[after.length - 1]!),
    })}\n`,
  );
  process.exitCode = withRenewal.length === agents ? 0 : 1;
} finally {
  client.destroy();
  await target.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
