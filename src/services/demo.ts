import { seedDemoInventory } from '../db/demo-seed.ts';
import type { Pool } from '../db/pool.ts';
import type { AuditWriter } from './audit/writer.ts';

/** Seeds the demo inventory and audits it (once: a run that adds nothing records nothing). */
export async function seedDemo(pool: Pool, audit: AuditWriter): Promise<number> {
  return audit.atomically(async () => {
    const added = await seedDemoInventory(pool);
    if (added > 0) {
      await audit.record(undefined, {
        action: 'demo_inventory_seeded',
        resourceType: 'inventory',
        resourceId: 'demo',
        category: 'config',
        details: { certificates: added },
      });
    }
    return added;
  });
}
