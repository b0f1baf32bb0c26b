import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './schema.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      dataDir: path.resolve('/srv/app', '.certfleet'),
      databaseUrl: undefined,
      databaseMaxConns: 50,
      maxBodyBytes: 1024 * 1024,
      logLevel: 'info',
      adminApiKey: undefined,
      tls: undefined,
      shutdownTimeoutMs: 10_000,
    });
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ CERTFLEET_PORT: '', DATABASE_URL: '' }).port).toBe(8080);
  });

  it('parses typed values', () => {
    const config = loadConfig({
      CERTFLEET_PORT: '0',
      CERTFLEET_DATABASE_MAX_CONNS: '7',
      CERTFLEET_MAX_BODY_BYTES: '2048',
      CERTFLEET_LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      CERTFLEET_TLS_CERT_PATH: '/c.pem',
      CERTFLEET_TLS_KEY_PATH: '/k.pem',
    });
    expect(config.port).toBe(0);
    expect(config.databaseMaxConns).toBe(7);
    expect(config.maxBodyBytes).toBe(2048);
    expect(config.tls).toEqual({ certPath: '/c.pem', keyPath: '/k.pem' });
  });

  it.each([
    ['CERTFLEET_PORT', 'abc'],
    ['CERTFLEET_PORT', '70000'],
    ['CERTFLEET_PORT', '-1'],
    ['CERTFLEET_DATABASE_MAX_CONNS', '0'],
    ['CERTFLEET_MAX_BODY_BYTES', '1.5'],
    ['CERTFLEET_LOG_LEVEL', 'loud'],
    ['CERTFLEET_EMBEDDED_PG_PORT', '0'],
    ['CERTFLEET_TRUSTED_PROXIES', '10.0.0.0/8, lb.example.net'],
    ['CERTFLEET_TRUSTED_PROXIES', '10.0.0.0/40'],
  ])('names %s in the error for %j', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(problems[0]).toContain(JSON.stringify(value));
  });

  it('never echoes secret values', () => {
    const problems = problemsOf({ CERTFLEET_ADMIN_API_KEY: 'short-secret', DATABASE_URL: 'mysql://secret@x' });
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems.join('\n')).not.toContain('mysql://secret');
    expect(problems.some((p) => p.startsWith('CERTFLEET_ADMIN_API_KEY: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_URL: '))).toBe(true);
  });

  it('reads the trusted proxies as a list of addresses and subnets', () => {
    expect(loadConfig({ CERTFLEET_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,fd00::/8' }).trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    expect(loadConfig({}).trustedProxies).toEqual([]);
  });

  it('requires TLS cert and key together', () => {
    expect(problemsOf({ CERTFLEET_TLS_CERT_PATH: '/c.pem' })[0]).toMatch(/CERTFLEET_TLS_KEY_PATH/);
  });

  it('reads a deprecated duration name into its new name, says so, and refuses a conflict', () => {
    const config = loadConfig({ CERTFLEET_AGENT_OFFLINE_AFTER: '120' });
    expect(config.agentOfflineAfterSeconds).toBe(120);
    expect(config.deprecations).toEqual(['CERTFLEET_AGENT_OFFLINE_AFTER is deprecated: rename it to CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS']);
    expect(loadConfig({ CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS: '120' }).deprecations).toEqual([]);
    expect(problemsOf({ CERTFLEET_AGENT_OFFLINE_AFTER: '120', CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS: '90' })[0]).toMatch(
      /CERTFLEET_AGENT_OFFLINE_AFTER is the deprecated name of CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS/,
    );
    // The old name keeps the new name's rules.
    expect(problemsOf({ CERTFLEET_AGENT_OFFLINE_AFTER: '1' })[0]).toMatch(/^CERTFLEET_AGENT_OFFLINE_AFTER_SECONDS: must be at least 10/);
  });
});
