/** Inventory rows made directly in SQL, for tests that need a world to act on. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface Inventory {
  suffix: string;
  teamId: string;
  ownerId: string;
  issuerId: string;
  policyId: string;
  profileId: string;
  agentId: string;
  targetId: string;
}

/** One of everything, with ids unique to this call (tests in one database never collide). */
export async function seedInventory(databaseUrl: string): Promise<Inventory> {
  const s = randomBytes(4).toString('hex');
  const inv: Inventory = {
    suffix: s,
    teamId: `team-${s}`,
    ownerId: `owner-${s}`,
    issuerId: `iss-${s}`,
    policyId: `rp-${s}`,
    profileId: `prof-${s}`,
    agentId: `agent-${s}`,
    targetId: `target-${s}`,
  };
  await withClient(databaseUrl, async (client) => {
    await client.query('INSERT INTO teams (id, name) VALUES ($1, $1)', [inv.teamId]);
    await client.query("INSERT INTO owners (id, name, email, team_id) VALUES ($1, $1, 'o@example.com', $2)", [inv.ownerId, inv.teamId]);
    await client.query("INSERT INTO issuers (id, name, type) VALUES ($1, $1, 'local')", [inv.issuerId]);
    await client.query('INSERT INTO renewal_policies (id, name) VALUES ($1, $1)', [inv.policyId]);
    await client.query('INSERT INTO certificate_profiles (id, name) VALUES ($1, $1)', [inv.profileId]);
    await client.query("INSERT INTO agents (id, name, hostname) VALUES ($1, $1, 'host.example.test')", [inv.agentId]);
    await client.query('INSERT INTO agent_liveness (agent_id) VALUES ($1)', [inv.agentId]);
    await client.query("INSERT INTO deployment_targets (id, name, type, agent_id) VALUES ($1, $1, 'NGINX', $2)", [inv.targetId, inv.agentId]);
  });
  return inv;
}

/** Runs `work` on a short-lived client of the test database. */
export async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A valid certificate body over `inv`. */
export function certificateBody(inv: Inventory, name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    common_name: `${name}.example.test`,
    owner_id: inv.ownerId,
    team_id: inv.teamId,
    issuer_id: inv.issuerId,
    renewal_policy_id: inv.policyId,
    ...extra,
  };
}
