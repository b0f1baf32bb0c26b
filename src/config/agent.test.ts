import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { loadAgentConfig } from './agent.ts';
import { loadConfig } from './schema.ts';

/** The agent reads its three variables without zod; it must agree with the server's schema. */
describe('loadAgentConfig', () => {
  const pick = (env: NodeJS.ProcessEnv) => {
    const c = loadConfig(env, '/srv');
    return { dataDir: c.dataDir, logLevel: c.logLevel, agentBootstrapToken: c.agentBootstrapToken };
  };
  it.each([
    {},
    { CERTFLEET_DATA_DIR: '/var/lib/certfleet', CERTFLEET_LOG_LEVEL: 'debug', CERTFLEET_AGENT_BOOTSTRAP_TOKEN: 'b'.repeat(24) },
    { CERTFLEET_DATA_DIR: 'rel/dir', CERTFLEET_LOG_LEVEL: '', CERTFLEET_AGENT_BOOTSTRAP_TOKEN: '' },
  ])('reads %j as the server schema does', (env) => {
    expect(loadAgentConfig(env, '/srv')).toEqual(pick(env));
  });

  it.each([{ CERTFLEET_LOG_LEVEL: 'loud' }, { CERTFLEET_AGENT_BOOTSTRAP_TOKEN: 'short' }])('refuses %j as the server schema does', (env) => {
    expect(() => loadAgentConfig(env, '/srv')).toThrow(ConfigError);
    expect(() => loadConfig(env, '/srv')).toThrow(ConfigError);
  });
});
