import { describe, expect, it } from 'vitest';
import { etagFor, ifNoneMatchMatches } from './etag.ts';

describe('etag', () => {
  const tag = etagFor('{"data":[]}');

  it('is a quoted strong validator that changes with the body', () => {
    expect(tag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(etagFor('{"data":[1]}')).not.toBe(tag);
    expect(etagFor(Buffer.from('{"data":[]}'))).toBe(tag);
  });

  it.each([
    [tag, true],
    [`W/${tag}`, true],
    ['*', true],
    [`"other", ${tag}`, true],
    [`"other",W/${tag} , "x"`, true],
    ['"other"', false],
    ['', false],
    [tag.slice(0, -2) + '"', false],
    [' , ', false],
  ])('If-None-Match %j matches: %s', (header, expected) => {
    expect(ifNoneMatchMatches(header, tag)).toBe(expected);
  });
});
