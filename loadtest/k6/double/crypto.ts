/** Test double of k6/crypto: the digests k6 scripts use, from node:crypto. */
import { createHash } from 'node:crypto';

export function sha256(input: string, encoding: 'hex' | 'base64' | 'base64rawurl'): string {
  return createHash('sha256')
    .update(input)
    .digest(encoding === 'base64rawurl' ? 'base64url' : encoding);
}
