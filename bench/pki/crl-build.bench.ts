/** Building and signing a CRL with 100,000 revoked serials (what the buildCrl task does). */
import { randomBytes } from 'node:crypto';
import { buildCrl, type CrlEntry } from '../../src/pki/crl.ts';
import type { BenchFile } from '../harness.ts';
import { ca } from './fixtures.ts';

const reasons = ['unspecified', 'keyCompromise', 'superseded', 'cessationOfOperation'] as const;
const entries: CrlEntry[] = Array.from({ length: 100_000 }, (_, i) => ({
  serial: randomBytes(16).toString('hex').replace(/^0+/, ''),
  revokedAt: new Date(Date.now() - i * 1000),
  reason: reasons[i % reasons.length]!,
}));

export default {
  title: 'CRL build + sign, 100,000 entries',
  cases: () => [
    {
      name: 'buildCrl(100,000 entries)',
      fn: () => void buildCrl({ ca, crlNumber: 42, thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000), entries }),
    },
  ],
} satisfies BenchFile;
