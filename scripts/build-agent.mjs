// npm run build:agent: the agent as one JavaScript file for fleet hosts, dist/certfleet-agent.cjs,
// run with plain node (no tsx, no node_modules): `node dist/certfleet-agent.cjs --server URL`.
// `npm run build:agent -- --sea` also builds dist/certfleet-agent, a Node single executable
// application (the node binary with the bundle and its V8 code cache inside: no node needed on
// the host, and about 45 ms less start-up). src/agent/main.ts imports nothing of the server (a
// lint rule and src/agent/import-graph.test.ts keep it so), so the bundle holds the agent and
// pino only. docs/operator/agent.md has what each form costs a host.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const outfile = path.join(dist, 'certfleet-agent.cjs');
const result = await build({
  entryPoints: [new URL('../src/agent/main.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: 'node',
  // CommonJS: what a single executable application runs, and pino's own module format.
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'linked',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
fs.chmodSync(outfile, 0o755);
const inputs = Object.keys(result.metafile.inputs);
process.stdout.write(`wrote ${outfile}: ${(fs.statSync(outfile).size / 1024).toFixed(0)} KiB from ${inputs.length} modules\n`);

if (process.argv.includes('--sea')) {
  // https://nodejs.org/api/single-executable-applications.html: a preparation blob (the script
  // and its code cache), injected into a copy of this node binary under the documented fuse.
  const config = path.join(dist, 'sea-config.json');
  const blob = path.join(dist, 'sea-prep.blob');
  const executable = path.join(dist, 'certfleet-agent');
  fs.writeFileSync(config, JSON.stringify({ main: outfile, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'ignore' });
  fs.copyFileSync(process.execPath, executable);
  fs.chmodSync(executable, 0o755);
  const postject = new URL('../node_modules/postject/dist/cli.js', import.meta.url).pathname;
  execFileSync(process.execPath, [postject, executable, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'], { stdio: 'ignore' });
  fs.rmSync(config);
  fs.rmSync(blob);
  process.stdout.write(`wrote ${executable}: ${(fs.statSync(executable).size / 1024 / 1024).toFixed(0)} MiB (node ${process.version} and the agent)\n`);
}
