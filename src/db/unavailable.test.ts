import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './unavailable.ts';

const socketError = (code: string, syscall: string) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall });

describe('isDatabaseUnavailable', () => {
  it('counts a refused or missing PostgreSQL socket, TCP or Unix', () => {
    expect(isDatabaseUnavailable(socketError('ECONNREFUSED', 'connect'))).toBe(true);
    // A stopped PostgreSQL removes its Unix socket file: connect() fails with ENOENT.
    expect(isDatabaseUnavailable(socketError('ENOENT', 'connect'))).toBe(true);
  });

  it('does not count a missing file elsewhere, or a statement error', () => {
    expect(isDatabaseUnavailable(socketError('ENOENT', 'open'))).toBe(false);
    expect(isDatabaseUnavailable(new Error('syntax error'))).toBe(false);
  });
});
