import { startApp, type RunningApp } from '../app.ts';
import { flushLogger } from '../observability/logger.ts';
import type { CommandContext } from './run-command.ts';

/**
 * Runs the server until SIGTERM or SIGINT, then shuts down gracefully and resolves 0.
 * A second signal, or the shutdown budget running out, exits at once with 1.
 * SIGHUP re-reads the TLS files (a renewed certificate without a restart); it never stops the
 * server, whatever the files hold.
 */
export async function serveCommand({ config, log }: CommandContext): Promise<number> {
  for (const deprecation of config.deprecations) log.warn({ deprecation }, 'deprecated configuration');
  // Installed before start-up: a SIGHUP then (a renewal hook firing early) must not kill the
  // server, which is the signal's default action; it reloads once the server has started.
  const server: { app?: RunningApp; hungUpDuringStart: boolean } = { hungUpDuringStart: false };
  const reloadTls = () => {
    if (!server.app) {
      server.hungUpDuringStart = true;
      return;
    }
    try {
      const { serial, notAfter } = server.app.reloadTls();
      log.info({ serial, not_after: notAfter }, 'TLS certificate reloaded: new connections use it');
    } catch (err) {
      log.error({ reason: (err as Error).message }, 'TLS reload refused: still serving the previous certificate');
    }
  };
  process.on('SIGHUP', reloadTls);
  const app = await startApp(config, log).catch((err: unknown) => {
    process.off('SIGHUP', reloadTls);
    throw err;
  });
  server.app = app;
  if (server.hungUpDuringStart && config.tls) reloadTls(); // the files may have changed after start-up read them
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without finishing shutdown');
        flushLogger(log);
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      const hardStop = setTimeout(() => {
        log.error({ budget_ms: config.shutdownTimeoutMs }, 'shutdown took too long: exiting');
        flushLogger(log);
        process.exit(1);
      }, config.shutdownTimeoutMs);
      hardStop.unref();
      app.close().then(
        () => {
          clearTimeout(hardStop);
          log.info('shutdown complete');
          flushLogger(log);
          // Everything certfleet opened is closed; a handle still open after that (a peer's
          // half-closed socket, say) must not keep a stopped server running. Named, then exit.
          setTimeout(() => {
            log.warn({ active: process.getActiveResourcesInfo() }, 'still running 2 s after shutdown completed: exiting');
            flushLogger(log);
            process.exit(0);
          }, 2_000).unref();
          resolve(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          flushLogger(log);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
