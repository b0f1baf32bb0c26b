/** DER: encoding a subject-like structure (what every issued certificate assembles) and walking a certificate. */
import { children, read, sequence, set, oid, utf8String, time, smallInteger } from '../../src/pki/der.ts';
import type { BenchFile } from '../harness.ts';
import { caDer } from './fixtures.ts';

const der = Buffer.from(caDer);
const now = new Date('2026-11-29T00:00:00Z');

function walk(node: ReturnType<typeof read>, depth: number): number {
  if (depth > 3 || (node.tag & 0x20) === 0) return 1;
  return children(der, node).reduce((n, c) => n + walk(c, depth + 1), 1);
}

export default {
  title: 'DER encode (name + validity) and decode (walk a CA certificate 4 levels deep)',
  cases: () => [
    {
      name: 'encode Name(CN, O) + Validity + version',
      fn: () =>
        void sequence(
          smallInteger(2),
          sequence(set(sequence(oid('2.5.4.3'), utf8String('api.example.com'))), set(sequence(oid('2.5.4.10'), utf8String('Example Corp')))),
          sequence(time(now), time(new Date(now.getTime() + 90 * 86_400_000))),
        ),
    },
    { name: `walk a certificate (${der.length} B)`, fn: () => void walk(read(der, 0), 0) },
  ],
} satisfies BenchFile;
