#!/usr/bin/env node
// From a checkout (src/ present) certfleet runs straight from its TypeScript sources through
// tsx, so `npm ci && npm start` needs no build step. The published package (npm pack) has no
// src/: it runs the compiled JavaScript in dist/ (npm run build) with plain node.
import fs from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (fs.existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  process.setSourceMapsEnabled(true); // stack traces name the TypeScript lines (maps carry the sources)
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
