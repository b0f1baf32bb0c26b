/**
 * What a certificate profile allows, checked against a request before anything is signed.
 * Each check returns the reason it fails (for a 400) or undefined.
 */
import { isIP } from 'node:net';
import type { KeyAlgorithm } from './csr.ts';

export interface ProfileRules {
  allowedKeyAlgorithms: Array<{ algorithm: string; min_size?: number }>;
  allowedEkus: string[];
  sanPatterns: string[];
  maxTtlSeconds: number;
}

/** What certfleet signs at all, whatever the profile says. */
export function checkKeySupported(algorithm: KeyAlgorithm, size: number): string | undefined {
  if (algorithm === 'ECDSA' && size !== 256 && size !== 384) return `ECDSA keys must use P-256 or P-384 (got ${size}-bit curve)`;
  if (algorithm === 'RSA' && (size < 2048 || size > 4096)) return `RSA keys must be 2048 to 4096 bits (got ${size})`;
  return undefined;
}

export function checkKeyAllowed(rules: ProfileRules, algorithm: KeyAlgorithm, size: number): string | undefined {
  const allowed = rules.allowedKeyAlgorithms;
  if (allowed.length === 0) return undefined;
  const ok = allowed.some((a) => a.algorithm === algorithm && (a.min_size === undefined || algorithm === 'Ed25519' || size >= a.min_size));
  if (ok) return undefined;
  const list = allowed.map((a) => (a.min_size ? `${a.algorithm} >= ${a.min_size}` : a.algorithm)).join(', ');
  return `key ${algorithm} ${size} is not allowed by the profile (allowed: ${list})`;
}

/** "*.example.com" matches exactly one label below example.com; other patterns match exactly. */
export function nameMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (!p.startsWith('*.')) return p === n;
  const suffix = p.slice(1); // ".example.com"
  return n.endsWith(suffix) && n.length > suffix.length && !n.slice(0, -suffix.length).includes('.');
}

export function checkNamesAllowed(rules: ProfileRules, names: readonly string[]): string | undefined {
  if (rules.sanPatterns.length === 0) return undefined;
  const bad = names.find((name) => !rules.sanPatterns.some((p) => nameMatches(p, name)));
  return bad === undefined
    ? undefined
    : `${isIP(bad) ? 'IP address' : 'name'} ${bad} does not match the profile's san_patterns (${rules.sanPatterns.join(', ')})`;
}
