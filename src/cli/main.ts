/**
 * `certfleet <command>`: serve, migrate, keys create. Returns the process exit code:
 * 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
import { ConfigError, loadConfig, type Config } from '../config/schema.ts';
import { createLogger, flushLogger, type Logger } from '../observability/logger.ts';
import { version } from '../version.ts';
import { agentCommand } from './agent.ts';
import { auditCommand } from './audit.ts';
import { keysCommand } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { seedCommand } from './seed.ts';
import { serveCommand } from './serve.ts';

const usage = `certfleet ${version}: certificate lifecycle control plane

Usage:
  certfleet serve                              start the server (embedded PostgreSQL unless DATABASE_URL)
  certfleet migrate                            apply database migrations and exit
  certfleet keys create --name N --role R [--expires-at RFC3339]
                                               create an API key (roles: admin, operator, viewer);
                                               prints the key once
  certfleet audit verify                       check the audit log's hash chain; names the first broken event
  certfleet seed --demo                        add a small demo inventory (idempotent)
  certfleet agent --server URL [--once]        run the host agent (registers with CERTFLEET_AGENT_BOOTSTRAP_TOKEN)
  certfleet --version | --help

Configuration comes from the environment: see docs/environment.md.
`;

export class UsageError extends Error {}

export interface CommandContext {
  config: Config;
  log: Logger;
  args: string[];
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const run = { serve: serveCommand, migrate: migrateCommand, keys: keysCommand, audit: auditCommand, seed: seedCommand, agent: agentCommand }[command];
  if (!run) {
    process.stderr.write(`certfleet: unknown command ${JSON.stringify(command)}\n\n${usage}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`certfleet: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // One-shot commands log to stderr so stdout carries only their result (e.g. a new key).
  const log =
    command === 'serve'
      ? createLogger({ level: config.logLevel })
      : createLogger({ level: config.logLevel === 'info' && command !== 'agent' ? 'warn' : config.logLevel, destination: process.stderr });
  try {
    return await run({ config, log, args: rest });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`certfleet ${command}: ${err.message}\n`);
      return 2;
    }
    log.fatal({ err }, `certfleet ${command} failed`);
    flushLogger(log);
    process.stderr.write(`certfleet ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}
