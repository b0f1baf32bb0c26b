/**
 * Strong ETags over a response body, and If-None-Match evaluation (RFC 9110 13.1.2):
 * a comma-separated list of entity tags or `*`, compared weakly (W/ prefixes ignored).
 */
import { createHash } from 'node:crypto';

/** `"<base64url sha256>"`, 45 bytes. ~10 us for a 12 KB 50-item page, under half of its JSON.stringify (bench/http/etag). */
export function etagFor(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}

/** True when If-None-Match (the raw header) matches `etag`, so the answer is 304. */
export function ifNoneMatchMatches(header: string, etag: string): boolean {
  if (header === '') return false;
  const wanted = opaque(etag);
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === '*') return true;
    if (tag !== '' && opaque(tag) === wanted) return true;
  }
  return false;
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}
