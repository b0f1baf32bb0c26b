import { describe, expect, it } from 'vitest';
import { children, decodeOid, DerError, oid, read, time, unsignedInteger } from './der.ts';

describe('der', () => {
  it.each([
    ['2026-11-24T03:04:05.678Z', '17', '261124030405Z'],
    ['1999-12-31T23:59:59Z', '17', '991231235959Z'],
    ['2049-12-31T23:59:59Z', '17', '491231235959Z'],
    ['2050-01-01T00:00:00Z', '18', '20500101000000Z'],
    ['1949-06-01T12:00:00Z', '18', '19490601120000Z'],
  ])('encodes %s as the right time type', (iso, tag, text) => {
    const der = time(new Date(iso));
    expect(der[0]!.toString(16)).toBe(tag);
    expect(der.subarray(2).toString('ascii')).toBe(text);
    expect(der[1]).toBe(text.length);
  });

  it('encodes unsigned integers minimally with a sign byte when needed', () => {
    expect(unsignedInteger(Buffer.from([0, 0, 0x7f])).toString('hex')).toBe('02017f');
    expect(unsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
    expect(unsignedInteger(Buffer.from([0])).toString('hex')).toBe('020100');
  });

  it('round-trips OIDs', () => {
    for (const o of ['1.2.840.10045.4.3.2', '2.5.29.17', '1.3.6.1.5.5.7.3.1', '1.2.840.113549.1.1.11']) {
      const der = oid(o);
      expect(decodeOid(der.subarray(2))).toBe(o);
    }
  });

  it('rejects lengths that run past their container', () => {
    const bad = Buffer.from([0x30, 0x05, 0x02, 0x01, 0x01]);
    expect(() => read(bad, 0)).toThrow(DerError);
    const nested = Buffer.from([0x30, 0x03, 0x02, 0x05, 0x01]);
    expect(() => children(nested, read(nested, 0))).toThrow(DerError);
  });
});
