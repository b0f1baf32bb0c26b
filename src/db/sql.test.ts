import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { sqlLiteral, StatementNames } from './sql.ts';

describe('sqlLiteral', () => {
  it('writes what pg.escapeLiteral writes (the library is the oracle)', () => {
    const cases = ['', "'", "''", '\\', "\\'", 'plain', "O'Brien", 'C:\\path\\to', '{"a":"b\\"c"}', 'é ✓ 😀', '\n\r\t', "'; DROP TABLE x; --"];
    // Random strings over the characters that matter, and others.
    const alphabet = ["'", '\\', 'a', '"', ' ', '\n', 'é', '😀', 'E'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2_000; i++) {
      cases.push(Array.from({ length: next() % 40 }, () => alphabet[next() % alphabet.length]).join(''));
    }
    for (const value of cases) expect(sqlLiteral(value)).toBe(pg.escapeLiteral(value));
  });
});

describe('StatementNames', () => {
  it('gives a text the same name every time, distinct texts distinct names, and none past its bound', () => {
    const names = new StatementNames('list', 2);
    const first = names.for('SELECT 1');
    expect(first).toBe('list-0');
    expect(names.for('SELECT 1')).toBe(first);
    expect(names.for('SELECT 2')).toBe('list-1');
    // Bounded: each name is a prepared statement on every connection that ran it.
    expect(names.for('SELECT 3')).toBeUndefined();
    expect(names.for('SELECT 2')).toBe('list-1');
  });
});
