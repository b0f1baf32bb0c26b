import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentGone } from '../agent/client.ts';
import type { AgentConfig } from '../config/agent.ts';
import { AgentRunner } from '../agent/runner.ts';
import { trustCa } from '../agent/http.ts';
import { UsageError, type CommandContext } from './run-command.ts';

/**
 * `certfleet agent --server URL [--name N] [--state-file F] [--heartbeat-interval S]
 * [--poll-interval S] [--discovery-dir D ...] [--discovery-interval S] [--ca-file PEM] [--once]`: runs the agent
 * (first start registers with CERTFLEET_AGENT_BOOTSTRAP_TOKEN). Discovery scans each
 * --discovery-dir soon after start, then every 6 h by default. --once does one heartbeat, a
 * discovery scan (if directories are given) and two work polls, then exits.
 */
export async function agentCommand({ config, log, args }: CommandContext<AgentConfig>): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        server: { type: 'string' },
        name: { type: 'string' },
        'state-file': { type: 'string' },
        'heartbeat-interval': { type: 'string' },
        'poll-interval': { type: 'string' },
        'discovery-dir': { type: 'string', multiple: true },
        'discovery-interval': { type: 'string' },
        once: { type: 'boolean' },
        'ca-file': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!values.server || !/^https?:\/\//.test(values.server)) throw new UsageError('--server http(s)://host:port is required');
  const seconds = (v: string | undefined, fallback: number) => {
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError('intervals must be positive numbers of seconds');
    return n;
  };
  const runner = new AgentRunner({
    server: values.server.replace(/\/+$/, ''),
    stateFile: path.resolve(values['state-file'] ?? path.join(config.dataDir, 'agent', 'state.json')),
    name: values.name ?? os.hostname(),
    bootstrapToken: config.agentBootstrapToken,
    heartbeatSeconds: seconds(values['heartbeat-interval'], 60),
    pollSeconds: seconds(values['poll-interval'], 30),
    discoveryDirs: values['discovery-dir'] ?? [],
    discoverySeconds: seconds(values['discovery-interval'], 6 * 3600),
    log,
  });
  try {
    const caFile = values['ca-file'] ?? config.agentCaFile;
    if (caFile) {
      let pem: string;
      try {
        pem = fs.readFileSync(caFile, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read the CA file ${caFile}: ${(err as Error).message}`);
      }
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${caFile} holds no PEM certificate`);
      trustCa(pem);
    }
    const controller = new AbortController();
    process.once('SIGTERM', () => controller.abort());
    process.once('SIGINT', () => controller.abort());
    try {
      await runner.connect({ retry: !values.once, signal: controller.signal });
    } catch (err) {
      if (controller.signal.aborted) return 0; // stopped while waiting for the server
      throw err;
    }
    if (values.once) {
      await runner.heartbeat();
      const discovered = values['discovery-dir']?.length ? await runner.discoverOnce() : undefined;
      const done = await runner.pollOnce(); // claims the deployments its own CSRs created
      process.stdout.write(`${JSON.stringify({ ...done, ...(discovered ? { discovered } : {}) })}\n`);
      return 0;
    }
    await runner.run(controller.signal);
    return 0;
  } catch (err) {
    if (err instanceof AgentGone) {
      process.stderr.write('certfleet agent: this agent was retired; exiting\n');
      return 0;
    }
    throw err;
  }
}
