/**
 * A PostgreSQL session of its own, outside the pool, for what must live on one connection: a
 * session-level advisory lock (the leader lock), LISTEN. The session reports its own end once
 * (`onLost`): an error, the server closing it, or an administrator terminating it.
 */
import pg from 'pg';

export interface DedicatedSession {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
  listen(channel: string): Promise<void>;
  /** Ends the session; `onLost` is not called for it. */
  end(): Promise<void>;
}

export interface DedicatedSessionOptions {
  connectionString: string;
  applicationName: string;
  onNotification?: (channel: string, payload: string) => void;
  onLost: (err: Error) => void;
}

export async function openDedicatedSession(o: DedicatedSessionOptions): Promise<DedicatedSession> {
  const client = new pg.Client({ connectionString: o.connectionString, keepAlive: true, application_name: o.applicationName });
  let lost = false;
  const lose = (err: Error) => {
    if (lost) return;
    lost = true;
    o.onLost(err);
  };
  client.on('error', lose);
  client.on('end', () => lose(new Error('the session ended')));
  if (o.onNotification) client.on('notification', (n) => o.onNotification!(n.channel, n.payload ?? ''));
  try {
    await client.connect();
  } catch (err) {
    lost = true;
    client.removeAllListeners();
    client.on('error', () => undefined);
    await client.end().catch(() => undefined);
    throw err;
  }
  return {
    async query<R extends Record<string, unknown>>(text: string, params?: unknown[]) {
      const { rows } = await client.query<R>(text, params);
      return { rows };
    },
    async listen(channel) {
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    },
    async end() {
      lost = true;
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
