import { describe, expect, it } from 'vitest';
import { unpooled } from './unpooled.ts';

describe('unpooled', () => {
  it('copies a view on a shared slab into bytes of their own, and passes bytes that own their buffer as they are', () => {
    const pooled = Buffer.from('ab'.repeat(300), 'hex'); // 300 bytes in Node's 8 KB pool
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    for (const copy of [unpooled(pooled), unpooled(new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.byteLength))]) {
      expect(copy.buffer.byteLength).toBe(300);
      expect(Buffer.from(copy).equals(pooled)).toBe(true);
    }
    expect(Buffer.isBuffer(unpooled(pooled))).toBe(true);
    const own = Buffer.alloc(300, 1);
    expect(unpooled(own)).toBe(own);
    expect(unpooled(own)).toBe(own); // a Buffer that owns its bytes is passed through
    // What crosses postMessage: the whole slab for the view, only itself for the copy.
    expect(structuredClone(pooled).buffer.byteLength).toBe(pooled.buffer.byteLength);
    expect(structuredClone(unpooled(pooled)).buffer.byteLength).toBe(300);
  });
});
