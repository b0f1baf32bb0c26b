/** PostgreSQL NOTIFY: a message to whichever replica LISTENs on the channel (the leader). */
import type { Pool } from './pool.ts';

export async function notify(pool: Pool, channel: string, payload: string): Promise<void> {
  await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
}
