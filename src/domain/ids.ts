import { randomBytes } from 'node:crypto';

/**
 * Server-generated ids: `<prefix>-<12 hex ms timestamp><12 hex random>`. They sort by creation
 * time (useful for keyset pagination and index locality) and carry 48 random bits, so two
 * replicas never collide in practice. Example: `ak-019ab3c4d5e6f1a2b3c4d5e6`.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}-${now.toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
}
