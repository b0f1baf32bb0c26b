/**
 * Bytes that cross to or from a worker thread. postMessage copies a typed array's whole
 * underlying ArrayBuffer, and Node puts small Buffers (Buffer.from of a string, pg's bytea,
 * Buffer.concat) in shared 8 KB slabs: a 600-byte certificate then travels as 8 KB, and a post
 * of two such views costs 39 us instead of 6.5 us (measured on this machine). A copy with a
 * buffer of its own travels as itself.
 */
export function unpooled(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.from(bytes);
}

/** The same, as a Buffer (for the main thread's own use of what it posts). */
export function unpooledBuffer(bytes: Buffer): Buffer {
  if (bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const own = Buffer.alloc(bytes.byteLength); // alloc, never the pool
  bytes.copy(own);
  return own;
}
