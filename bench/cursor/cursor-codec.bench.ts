/** Keyset cursor encode/decode (HMAC-SHA256, truncated): runs once per list page. */
import { randomBytes } from 'node:crypto';
import { CursorCodec } from '../../src/services/cursor.ts';
import type { BenchFile } from '../harness.ts';

const codec = new CursorCodec(randomBytes(32));
const payload = { s: 'created_at:asc', f: 'k3J9aZ0qLm1x2Y7w', v: '2026-11-24T03:38:03.486123Z', id: 'cert-019ab3c4d5e6f1a2b3c4d5e6' };
const token = codec.encode(payload);

export default {
  title: `opaque keyset cursor (${token.length} characters)`,
  cases: () => [
    { name: 'encode', fn: () => void codec.encode(payload) },
    { name: 'decode (verify MAC + parse)', fn: () => void codec.decode(token) },
  ],
} satisfies BenchFile;
