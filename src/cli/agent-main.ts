/** `certfleet agent` without the rest of the CLI: what the agent bundle runs (src/agent/main.ts). */
import { loadAgentConfig } from '../config/agent.ts';
import { agentCommand } from './agent.ts';
import { commandHelp, wantsHelp } from './help.ts';
import { runCommand } from './run-command.ts';

export function agentMain(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    process.stdout.write(commandHelp.agent!);
    return Promise.resolve(0);
  }
  return runCommand('agent', async () => agentCommand, args, loadAgentConfig);
}
