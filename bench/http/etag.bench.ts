/** ETag over typical list pages: what `etag: true` adds to every GET list response. */
import { etagFor, ifNoneMatchMatches } from '../../src/http/etag.ts';
import type { BenchFile } from '../harness.ts';

function page(items: number): string {
  const rows = Array.from({ length: items }, (_, i) => ({
    id: `cert-${String(i).padStart(8, '0')}`,
    name: `svc-${i}.example.test`,
    common_name: `svc-${i}.example.test`,
    sans: [`svc-${i}.example.test`, `alt-${i}.example.test`],
    status: 'Active',
    expires_at: '2027-01-01T00:00:00.000Z',
    owner_id: 'o-alice',
    team_id: 't-platform',
  }));
  return JSON.stringify({ data: rows, total: 100_000, next_cursor: 'abc' });
}

const page50 = page(50);
const page500 = page(500);
const tag = etagFor(page50);

export default {
  title: `strong ETag (SHA-256, base64url) of a 50-item page (${page50.length} B) and a 500-item page (${page500.length} B)`,
  cases: () => [
    { name: 'etagFor 50-item page', fn: () => void etagFor(page50) },
    { name: 'etagFor 500-item page', fn: () => void etagFor(page500) },
    { name: 'JSON.stringify 50-item page (for scale)', fn: () => void page(50) },
    { name: 'ifNoneMatchMatches, 3-tag list', fn: () => void ifNoneMatchMatches(`"a", W/"b", ${tag}`, tag) },
  ],
} satisfies BenchFile;
