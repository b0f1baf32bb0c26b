/**
 * Runs one subcommand: configuration from the environment (exit 2 with the variable named when
 * it is wrong), a logger (stderr for one-shot commands, so stdout carries only their result),
 * and the error handling every command shares: 0 success, 1 runtime failure, 2 bad usage.
 * Kept apart from the command table (main.ts) so the agent's bundle imports no other command.
 */
import { ConfigError } from '../config/errors.ts';
import type { Config } from '../config/schema.ts';
import { createLogger, flushLogger, type Logger } from '../observability/logger.ts';

export class UsageError extends Error {}

export interface CommandContext<C = Config> {
  config: C;
  log: Logger;
  args: string[];
}

export type Command<C = Config> = (ctx: CommandContext<C>) => Promise<number>;

/** `readConfig`: the server's full schema for server commands, the agent's own small reader for the agent. */
export async function runCommand<C extends { logLevel: string }>(
  command: string,
  load: () => Promise<Command<C>>,
  rest: string[],
  readConfig: (env: NodeJS.ProcessEnv) => C,
): Promise<number> {
  let config: C;
  try {
    config = readConfig(process.env);
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
    const run = await load();
    return await run({ config, log, args: rest });
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      // A configuration found wrong at start (e.g. an encryption key that cannot open the
      // stored CA keys) is the operator's to fix, as a bad variable is: exit 2, no stack.
      process.stderr.write(`certfleet ${command}: ${err.message}\n`);
      return 2;
    }
    log.fatal({ err }, `certfleet ${command} failed`);
    flushLogger(log);
    process.stderr.write(`certfleet ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}
