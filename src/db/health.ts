import type { Pool } from './pool.ts';

/** One round trip to the database, failing after `timeoutMs` (a hung server must not hang /ready). */
export async function pingDatabase(pool: Pool, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([pool.query('SELECT 1'), timeout]);
  } catch (err) {
    // The reason without addresses: /ready is public, and the embedded database's port (or a
    // DATABASE_URL host) is nobody's business there. The cause is logged by whoever logs.
    const cause = (err as { cause?: unknown }).cause ?? err;
    const code = (cause as { code?: unknown }).code;
    throw new Error(typeof code === 'string' ? code : (err as Error).message.replace(/\S*\d+\.\d+\.\d+\.\d+\S*|\[[0-9a-f:]+\]\S*/gi, '<address>'), {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
}
