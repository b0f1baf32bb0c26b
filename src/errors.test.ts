import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from './errors.ts';

describe('error catalogue', () => {
  const doc = fs.readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Set(doc.match(/CF_ERR_[A-Z_]+/g) ?? []);
  const codes = Object.values(errorCatalogue).map((e) => e.code);

  it('documents every code in docs/errors.md', () => {
    expect(codes.filter((c) => !documented.has(c))).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    expect([...documented].filter((c) => !codes.includes(c as never))).toEqual([]);
  });

  it('gives each kind a distinct code', () => {
    expect(new Set(codes).size).toBe(codes.length);
  });
});
