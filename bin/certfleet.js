#!/usr/bin/env node
// certfleet runs straight from its TypeScript sources: tsx registers an ESM loader, so
// `npm ci && npm start` needs no build step. Worker threads use the same loader (src/workers).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
