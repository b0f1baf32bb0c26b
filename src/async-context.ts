/**
 * Background work (loops, batchers, the audit chainer) must not run inside whatever async
 * context happened to start it: a request inside a unit of work would otherwise lend its
 * transaction to every query the background work makes (src/db/transaction-scope.ts).
 * `detached(fn)` runs fn in the context this module was loaded in, at start-up, where no
 * AsyncLocalStorage holds anything.
 */
import { AsyncResource } from 'node:async_hooks';

const root = new AsyncResource('certfleet.detached');

/** `fn`, always run in the start-up async context, whoever calls it. */
export function detached<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args) => root.runInAsyncScope(fn, undefined, ...args);
}
