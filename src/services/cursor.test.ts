import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { CursorCodec } from './cursor.ts';

const codec = new CursorCodec(randomBytes(32));
const payload = { s: 'created_at:asc', f: 'abc', v: '2026-11-24T03:00:00.123456Z', id: 'cert-1:2' };

function rejects(token: string): boolean {
  try {
    codec.decode(token);
    return false;
  } catch (err) {
    return err instanceof AppError && err.status === 400;
  }
}

describe('CursorCodec', () => {
  it('round-trips payloads, including colons and nulls', () => {
    expect(codec.decode(codec.encode(payload))).toEqual(payload);
    expect(codec.decode(codec.encode({ ...payload, v: null }))).toEqual({ ...payload, v: null });
    expect(codec.decode(codec.encode({ ...payload, v: 42 }))).toEqual({ ...payload, v: 42 });
  });

  it('is URL-safe', () => {
    expect(codec.encode(payload)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('rejects tampered, truncated, foreign and garbage cursors with 400', () => {
    const token = codec.encode(payload);
    const [body, tag] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['created_at:asc', 'abc', '1999-01-01T00:00:00Z', 'x'])).toString('base64url');
    expect(rejects(`${forged}.${tag}`)).toBe(true);
    expect(rejects(`${body}.${tag.slice(0, -2)}`)).toBe(true);
    expect(rejects(new CursorCodec(randomBytes(32)).encode(payload))).toBe(true);
    for (const junk of ['', '.', 'abc', 'a.b', '%%%.%%%', body]) expect(rejects(junk), junk).toBe(true);
  });
});
