/**
 * `certfleet <command>`: serve, migrate, keys create. Returns the process exit code:
 * 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
import { version } from '../version.ts';
import { loadConfig } from '../config/schema.ts';
import { commandHelp, wantsHelp } from './help.ts';
import { runCommand, type Command } from './run-command.ts';

/**
 * Each command's module is loaded only when it runs: `certfleet agent` on a fleet host must not
 * load the server (pg, uWS, piscina, prom-client ...): docs/operator/agent.md.
 */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serveCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  keys: async () => (await import('./keys.ts')).keysCommand,
  audit: async () => (await import('./audit.ts')).auditCommand,
  seed: async () => (await import('./seed.ts')).seedCommand,
};

const usage = `certfleet ${version}: certificate lifecycle control plane

Usage:
  certfleet serve                              start the server (embedded PostgreSQL unless DATABASE_URL)
  certfleet migrate                            apply database migrations and exit
  certfleet keys create --name N --role R [--expires-at RFC3339] [--init]
                                               create an API key (roles: admin, operator, viewer);
                                               prints the key once
  certfleet audit verify                       check the audit log's hash chain; names the first broken event
  certfleet seed --demo                        add a small demo inventory (idempotent)
  certfleet agent --server URL [--once]        run the host agent (registers with CERTFLEET_AGENT_BOOTSTRAP_TOKEN)
  certfleet --version | --help
  certfleet <command> --help                   a command's flags and the variables it reads

Configuration comes from the environment: see docs/environment.md.
`;

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
  if (Object.hasOwn(commandHelp, command) && wantsHelp(rest)) {
    process.stdout.write(commandHelp[command]!);
    return 0;
  }
  // The agent reads its own variables (src/config/agent.ts), as its bundle does.
  if (command === 'agent') return (await import('./agent-main.ts')).agentMain(rest);
  const load = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!load) {
    process.stderr.write(`certfleet: unknown command ${JSON.stringify(command)}\n\n${usage}`);
    return 2;
  }
  return runCommand(command, load, rest, loadConfig);
}
