import { describe, expect, it } from 'vitest';
import { WorkerPool } from './pool.ts';

describe('WorkerPool.close', () => {
  it('waits for threads still loading their task module before terminating them', async () => {
    const pool = new WorkerPool({ threads: 2, maxQueue: 10 });
    // Closed at once: terminating a thread mid-load aborts the process (V8 fatal in require(esm)).
    await pool.close();
    expect(pool.loadedThreads).toBe(2);
  });

  it('lets a task already handed over finish, and refuses new ones with a 503', async () => {
    const pool = new WorkerPool({ threads: 1, maxQueue: 10 });
    const running = pool.run('readCertificates', []);
    const closed = pool.close();
    await expect(pool.run('readCertificates', [])).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(running).resolves.toBeDefined();
    await closed;
    expect(pool.completed).toBe(1);
  });
});
