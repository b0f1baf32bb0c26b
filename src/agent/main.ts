/**
 * The agent's own entry point, for the bundle a fleet host runs (npm run build:agent ->
 * dist/certfleet-agent.cjs, plain node, no tsx; or the single executable dist/certfleet-agent):
 * `certfleet-agent --server URL ...`, the same flags as `certfleet agent`. It loads the agent
 * and nothing of the server. No top-level await: the bundle is CommonJS.
 */
import { agentMain } from '../cli/agent-main.ts';

void agentMain(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
