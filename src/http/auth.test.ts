import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { bearerToken } from './auth.ts';

describe('bearerToken', () => {
  it('extracts the token, scheme case-insensitively', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
  });

  it.each(['', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'abc'])('rejects %j with 401', (header) => {
    let thrown: unknown;
    try {
      bearerToken(header);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).status).toBe(401);
    expect((thrown as AppError).headers['WWW-Authenticate']).toMatch(/^Bearer /);
  });
});
