/**
 * The one module that loads uWebSockets.js. Upstream publishes only on GitHub; the registry
 * republication `@trufflesuite/uws-js-unofficial` (uWS v20.30) ships prebuilt binaries for
 * Node 16/18/20 on glibc >= 2.34 (none exists on the npm registry for Node 22/24). Where the
 * binary does not load, certfleet serves through its own node:http engine (./node-engine.ts;
 * the package's fallback throws "Not implemented" from calls certfleet makes). The engine
 * actually serving is logged at start-up and shown in /health and /metrics.
 * Measured here (DESIGN.md): trivial POST ~48k req/s on uWS vs ~24k on node:http.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as UwsModule from '@trufflesuite/uws-js-unofficial';
import { nodeEngine } from './node-engine.ts';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
export type Uws = typeof UwsModule;

export interface HttpEngine {
  /** 'uWebSockets.js' when the native binary loaded, 'node:http' for certfleet's own fallback. */
  name: 'uWebSockets.js' | 'node:http';
  /** The uWS package's version, or Node's for node:http. */
  version: string;
  uws: Uws;
  /** Why the native binary did not load, when it did not. */
  fallbackReason?: string;
}

/** `LIBUS_LISTEN_EXCLUSIVE_PORT`: without it uWS sets SO_REUSEPORT and a taken port silently shares. */
export const LISTEN_EXCLUSIVE_PORT = 1;

/** CERTFLEET_HTTP_ENGINE: `auto` takes the binary when it loads, `uws` insists on it, `node` never uses it. */
export type EnginePreference = 'auto' | 'uws' | 'node';

const loaded = new Map<EnginePreference, HttpEngine>();

export function loadHttpEngine(preference: EnginePreference = 'auto'): HttpEngine {
  const known = loaded.get(preference);
  if (known) return known;
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  const version = (require('@trufflesuite/uws-js-unofficial/package.json') as { version: string }).version;
  const binary = path.join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  const fallback = (reason: string): HttpEngine => ({
    name: 'node:http',
    version: process.versions.node,
    uws: nodeEngine as unknown as Uws,
    fallbackReason: reason,
  });
  let engine: HttpEngine;
  if (preference === 'node') {
    engine = fallback('CERTFLEET_HTTP_ENGINE=node');
  } else {
    try {
      engine = { name: 'uWebSockets.js', version, uws: require(binary) as Uws };
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0] ?? 'unknown';
      if (preference === 'uws') {
        throw new Error(
          `CERTFLEET_HTTP_ENGINE=uws: the uWebSockets.js binary does not load on Node.js ${process.version} (${reason}); use Node.js 20 or CERTFLEET_HTTP_ENGINE=auto`,
        );
      }
      engine = fallback(reason);
    }
  }
  loaded.set(preference, engine);
  return engine;
}
