import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/support/memory-log.ts';
import { scrubForLog } from './logger.ts';

describe('scrubForLog', () => {
  it('replaces CR, LF, NUL and other control characters', () => {
    expect(scrubForLog('/a\r\nSet-Cookie: x\u0000\u001b[31m')).toBe('/a??Set-Cookie: x??[31m');
  });

  it('caps the length', () => {
    expect(scrubForLog('x'.repeat(600), 10)).toBe('xxxxxxxxxx...');
  });
});

describe('createLogger', () => {
  it('redacts authorization and key fields', () => {
    const { log, lines } = memoryLogger();
    log.info({ authorization: 'Bearer secret-1', apiKey: 'secret-2', headers: { authorization: 'secret-3' } }, 'x');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/secret-/);
    expect(lines[0]).toContain('[redacted]');
  });
});
