/**
 * The one module that loads uWebSockets.js. Upstream publishes only on GitHub; the registry
 * republication `@trufflesuite/uws-js-unofficial` (uWS v20.30) ships prebuilt binaries for
 * Node 16/18/20 on glibc >= 2.34 and a node:http fallback with the same API. We load the
 * binary ourselves (rather than through the package's entry, which only console.warns) so the
 * engine actually serving is known, logged at start-up and shown in /health and /metrics.
 * Measured here (DESIGN.md): trivial POST ~48k req/s on uWS vs ~24k on node:http.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as UwsModule from '@trufflesuite/uws-js-unofficial';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
export type Uws = typeof UwsModule;

export interface HttpEngine {
  /** 'uWebSockets.js' when the native binary loaded, 'node:http' for the package's fallback. */
  name: 'uWebSockets.js' | 'node:http';
  version: string;
  uws: Uws;
  /** Why the native binary did not load, when it did not. */
  fallbackReason?: string;
}

/** `LIBUS_LISTEN_EXCLUSIVE_PORT`: without it uWS sets SO_REUSEPORT and a taken port silently shares. */
export const LISTEN_EXCLUSIVE_PORT = 1;

let cached: HttpEngine | undefined;

export function loadHttpEngine(): HttpEngine {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const packageDir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  const version = (require('@trufflesuite/uws-js-unofficial/package.json') as { version: string }).version;
  const binary = path.join(packageDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    cached = { name: 'uWebSockets.js', version, uws: require(binary) as Uws };
  } catch (err) {
    cached = {
      name: 'node:http',
      version,
      uws: require(path.join(packageDir, 'dist', 'index.js')) as Uws,
      fallbackReason: (err as Error).message.split('\n')[0] ?? 'unknown',
    };
  }
  return cached;
}
