/**
 * The variables the agent reads, without the server's zod schema (src/config/schema.ts,
 * whose validation library is most of an agent bundle's size): the same names, defaults and
 * rules, checked by hand. A test keeps the two readers in agreement.
 */
import path from 'node:path';
import { ConfigError } from './errors.ts';

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The agent's own variables (not the server's): docs/environment.md documents them too. */
export const agentOnlyVariableNames = ['CERTFLEET_AGENT_CA_FILE'] as const;

export interface AgentConfig {
  dataDir: string;
  logLevel: (typeof logLevels)[number];
  agentBootstrapToken: string | undefined;
  /** A PEM CA the agent trusts for an https server (a private CA), besides the system roots. */
  agentCaFile: string | undefined;
}

export function loadAgentConfig(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): AgentConfig {
  const problems: string[] = [];
  const dataDir = env.CERTFLEET_DATA_DIR?.trim() || './.certfleet';
  const level = env.CERTFLEET_LOG_LEVEL?.trim() || 'info';
  if (!(logLevels as readonly string[]).includes(level))
    problems.push(`CERTFLEET_LOG_LEVEL: must be one of ${logLevels.join(', ')} (got ${JSON.stringify(level)})`);
  const token = env.CERTFLEET_AGENT_BOOTSTRAP_TOKEN === '' ? undefined : env.CERTFLEET_AGENT_BOOTSTRAP_TOKEN;
  if (token !== undefined && token.length < 24) problems.push('CERTFLEET_AGENT_BOOTSTRAP_TOKEN: must be at least 24 characters');
  if (problems.length) throw new ConfigError(problems);
  const caFile = env.CERTFLEET_AGENT_CA_FILE?.trim() || undefined;
  return { dataDir: path.resolve(cwd, dataDir), logLevel: level as AgentConfig['logLevel'], agentBootstrapToken: token, agentCaFile: caFile };
}
