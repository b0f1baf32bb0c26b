/**
 * Scenario definitions (loadtest/scenarios/*.js) as the Node driver sees them, and the request
 * context their request(i, ctx) functions use: the same shape loadtest/k6/common.js builds.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAcmeLoadContext, type AcmeLoadContext } from './acme.ts';
import type { ChallengeResponder } from './challenge-responder.ts';
import { loadAgentId, loadAgentKey } from './seed.ts';
import type { TableSpec } from './table-growth.ts';

export interface ScenarioRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | null;
  expect?: number;
  /**
   * Flows: reads the response (JSON parsed, else text; headers lower-case) into the flow's state;
   * throwing fails the flow; returning 'again' polls: the same step runs again after the flow's
   * pollMs (an ACME order still processing), at most maxPolls times.
   */
  then?: (state: Record<string, unknown>, body: unknown, headers: Record<string, string>) => void | 'again';
}

/**
 * A scenario whose iteration is several dependent requests (fleet_rotation, acme_flow). A step
 * returning null is skipped (a request the server's answer made unnecessary, e.g. challenges
 * for an order that is ready at once).
 */
export interface ScenarioFlow {
  begin(i: number, ctx: ScenarioContext): Record<string, unknown>;
  steps: Array<(state: Record<string, unknown>, ctx: ScenarioContext) => ScenarioRequest | null>;
  /** Between polls of one step (default 10 ms). */
  pollMs?: number;
  /** Polls of one step before the flow fails (default 100). */
  maxPolls?: number;
}

export interface ScenarioContext {
  /** Distinct per run: names created by a scenario never collide with an earlier run's. */
  runId: string;
  /** Values fetched by the scenario's setup steps before the run. */
  setup: Record<string, string>;
  baseUrl: string;
  /** Where the ACME directory is on the target (certfleet: /acme/directory; Pebble: /dir). */
  acmeDirectory: string;
  /** Where new nonces are (certfleet: /acme/new-nonce; Pebble: /nonce-plz). */
  acmeNewNonce: string;
  adminKey: string;
  seed: Record<string, number>;
  agentId(n: number): string;
  agentKey(id: string): string;
  /** ACME scenarios (`acme` set): accounts, JWS signing and CSRs (driver/acme.ts). */
  acme?: AcmeLoadContext;
}

export interface Scenario {
  name: string;
  /** Not a request load on certfleet: 'rotation', a renewal wave to real daemons (rotation.ts); 'handshake', new TLS connections to a daemon (handshake.ts). */
  kind?: 'requests' | 'rotation' | 'handshake';
  description: string;
  executor: 'constant-arrival-rate' | 'max-throughput';
  rate: number;
  duration: string;
  /** Run first at the same rate and left out of the results (caches, JIT, connection setup). */
  warmup?: string;
  connections: number;
  thresholds: Record<string, string[]>;
  seed: Record<string, number>;
  verify?: string;
  /** Fetched once before the run with the admin key: ctx.setup[name] = the response header's value. */
  setup?: Record<string, { path: string; header: string }>;
  /** When request(i) repeats every n requests: the driver encodes each distinct request once. */
  cycle?: (ctx: ScenarioContext) => number;
  /** One request per iteration... */
  request?(i: number, ctx: ScenarioContext): ScenarioRequest;
  /** ...or a flow of dependent requests (rate is then flows per second). */
  flow?: ScenarioFlow;
  /** ACME accounts to create before the run, CSRs to pre-make, and the profile to order with where offered (ctx.acme). */
  acme?: { accounts: number; csrs: number; profile?: string };
  /**
   * Requests that Pebble answers too (ACME entry points named through ctx.acmeDirectory and
   * ctx.acmeNewNonce): `--target pebble` may run it side by side. Flow scenarios with `acme` may always.
   */
  pebble?: boolean;
  /** Tables whose row counts are sampled through the run (table-growth.ts). */
  tables?: TableSpec;
}

export async function loadScenario(name: string): Promise<Scenario> {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a scenario name: ${name}`);
  const file = path.resolve(import.meta.dirname, '../scenarios', `${name}.js`);
  try {
    return ((await import(pathToFileURL(file).href)) as { default: Scenario }).default;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new Error(`no scenario ${name} in loadtest/scenarios`);
    throw err;
  }
}

/** "60s", "2m", "500ms" or a number of seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!m) throw new Error(`not a duration: ${text} (use e.g. 60s, 2m, 500ms)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

export function scenarioContext(
  target: { url: string; adminKey: string; acmeDirectory?: string; acmeNewNonce?: string },
  seed: Record<string, number>,
  seedSecret: string,
): ScenarioContext {
  const keys = new Map<string, string>();
  return {
    runId: Date.now().toString(36),
    setup: {},
    baseUrl: target.url,
    acmeDirectory: target.acmeDirectory ?? '/acme/directory',
    acmeNewNonce: target.acmeNewNonce ?? '/acme/new-nonce',
    adminKey: target.adminKey,
    seed,
    agentId: loadAgentId,
    agentKey(id) {
      let key = keys.get(id);
      if (key === undefined) keys.set(id, (key = loadAgentKey(seedSecret, id)));
      return key;
    },
  };
}

/**
 * Runs the scenario's setup steps (same semantics as runSetup in loadtest/k6/common.js). `acme`:
 * the driver's ACME options (accounts enough for the run's orders; `--acme-mode challenge`: another
 * profile, and the http-01 responder).
 */
export async function runSetup(
  scenario: Scenario,
  ctx: ScenarioContext,
  acme: { accounts?: number; profile?: string; responder?: ChallengeResponder } = {},
): Promise<void> {
  if (scenario.acme)
    ctx.acme = await createAcmeLoadContext(ctx.baseUrl, ctx.adminKey, {
      ...scenario.acme,
      ...(acme.accounts ? { accounts: acme.accounts } : {}),
      ...(acme.profile ? { profile: acme.profile } : {}),
      ...(acme.responder ? { responder: acme.responder } : {}),
      runId: ctx.runId,
      directoryPath: ctx.acmeDirectory,
    });
  for (const [name, step] of Object.entries(scenario.setup ?? {})) {
    const res = await fetch(`${ctx.baseUrl}${step.path}`, { headers: { authorization: `Bearer ${ctx.adminKey}` } });
    const value = res.headers.get(step.header);
    if (!res.ok || value === null) throw new Error(`setup ${name}: GET ${step.path} answered ${res.status} without ${step.header}`);
    ctx.setup[name] = value;
  }
}
