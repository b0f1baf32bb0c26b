/**
 * Waiting in tests: poll for the condition itself, with a deadline that fails naming what was
 * awaited, never a fixed sleep that hopes the condition holds by then (slow CI machines make
 * those flaky; fast ones make them waste time).
 */

/** Resolves with `probe()`'s first value other than undefined; throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `until` for a yes/no condition. */
export async function untilTrue(
  what: string,
  condition: () => Promise<boolean> | boolean,
  options?: { timeoutMs?: number; intervalMs?: number },
): Promise<void> {
  await until(what, async () => ((await condition()) ? true : undefined), options);
}

/** A server's change feed is connected (caches on): /metrics says so. */
export function untilChangeFeedUp(baseUrl: string): Promise<void> {
  return untilTrue(`the change feed of ${baseUrl}`, async () => /certfleet_change_feed_up 1/.test(await (await fetch(`${baseUrl}/metrics`)).text()), {
    timeoutMs: 10_000,
  });
}
