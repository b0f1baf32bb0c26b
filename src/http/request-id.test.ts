import { describe, expect, it } from 'vitest';
import { requestIdFrom } from './request-id.ts';

describe('requestIdFrom', () => {
  it('echoes a safe inbound id', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
  });

  it.each(['', 'has space', 'a\r\nInjected: 1', 'x'.repeat(129), 'quote"'])('replaces %j with a UUID', (inbound) => {
    expect(requestIdFrom(inbound)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
