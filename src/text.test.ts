import { describe, expect, it } from 'vitest';
import { isStorableText, truncate } from './text.ts';

describe('truncate', () => {
  it('keeps short text as it is', () => {
    expect(truncate('abc', 5)).toBe('abc');
  });

  it('never splits a surrogate pair (499 "a" + an emoji cut at 500 units)', () => {
    const text = `${'a'.repeat(499)}😀`;
    const cut = truncate(text, 500);
    expect(cut).toBe('a'.repeat(499));
    expect(cut.isWellFormed()).toBe(true);
    expect(truncate(`${'a'.repeat(498)}😀x`, 500)).toBe(`${'a'.repeat(498)}😀`);
  });
});

describe('isStorableText', () => {
  it('refuses NUL and lone surrogates, accepts pairs', () => {
    expect(isStorableText('a\0b')).toBe(false);
    expect(isStorableText('\ud800')).toBe(false);
    expect(isStorableText('x\udc00')).toBe(false);
    expect(isStorableText('😀 ok')).toBe(true);
  });
});
