/**
 * SQL string literals for the audit outbox (src/db/audit.ts): every unit of work that records
 * events sends them as one escaped JSON literal with its COMMIT. pg.escapeLiteral (the oracle)
 * against sqlLiteral (src/db/sql.ts) on a group of 9 certificate-create events.
 */
import pg from 'pg';
import { sqlLiteral } from '../../src/db/sql.ts';
import type { BenchFile } from '../harness.ts';

const events = JSON.stringify(
  Array.from({ length: 9 }, (_, i) => ({
    id: `audit-0193a1b2c3d4${String(i).padStart(12, '0')}`,
    actor: 'bootstrap-admin',
    actor_type: 'User',
    action: 'certificate_created',
    resource_type: 'certificate',
    resource_id: `mc-load-create-${i}`,
    details: { name: `load-create-run-${i}`, common_name: `load-create-run-${i}.fleet.test`, environment: 'load', owner_id: "o'brien" },
    timestamp: new Date(0).toISOString(),
    category: 'certificate',
  })),
);
const withBackslash = `${events}\\`;

export default {
  title: `an escaped SQL literal of 9 audit events (${events.length} characters of JSON)`,
  cases: () => [
    { name: 'pg.escapeLiteral', fn: () => void pg.escapeLiteral(events) },
    { name: 'sqlLiteral', fn: () => void sqlLiteral(events) },
    { name: 'pg.escapeLiteral, with a backslash', fn: () => void pg.escapeLiteral(withBackslash) },
    { name: 'sqlLiteral, with a backslash', fn: () => void sqlLiteral(withBackslash) },
  ],
} satisfies BenchFile;
