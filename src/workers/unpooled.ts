/**
 * Bytes that cross to or from a worker thread. postMessage copies a typed array's whole
 * underlying ArrayBuffer, and Node puts small Buffers (Buffer.from of a string, pg's bytea,
 * Buffer.concat) in shared 8 KB slabs: a 600-byte certificate then travels as 8 KB, and a post
 * of two such views costs 39 us instead of 6.5 us (measured on this machine). A copy with a
 * buffer of its own travels as itself.
 */
export function unpooled(bytes: Uint8Array): Buffer {
  if (bytes.byteLength === bytes.buffer.byteLength) {
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const own = Buffer.alloc(bytes.byteLength); // alloc, never the pool
  own.set(bytes);
  return own;
}
