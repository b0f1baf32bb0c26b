import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newHmacSecret } from './eab.ts';

describe('EAB HMAC keys', () => {
  it('never start with "-" in base64url, which command lines would read as an option', () => {
    const dash = Buffer.alloc(32, 0xff);
    dash[0] = 62 << 2; // base64url "-" first
    expect(dash.toString('base64url')[0]).toBe('-');
    const draws = [dash, Buffer.from(dash), randomBytes(32)];
    draws[2]![0] = 0x10;
    const secret = newHmacSecret(() => draws.shift()!);
    expect(secret.toString('base64url')[0]).not.toBe('-');
    expect(draws).toHaveLength(0); // both dash-led draws were redrawn
    for (let i = 0; i < 2_000; i++) expect(newHmacSecret().toString('base64url')).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{42}$/);
  });
});
