/**
 * Minimal DER (X.690) encoding and decoding: just what certificates, CSRs and CRLs need.
 * Encoders return Buffers and are composed by concatenation; constant parts of a certificate
 * (issuer name, algorithm identifiers, fixed extensions) are encoded once per CA and reused.
 * Decoding is a bounds-checked TLV walk that throws DerError on anything malformed.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function headerSize(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x10000 ? 4 : length < 0x1000000 ? 5 : 6;
}

function writeHeader(out: Buffer, tag: number, length: number): number {
  out[0] = tag;
  if (length < 0x80) {
    out[1] = length;
    return 2;
  }
  const bytes = headerSize(length) - 2;
  out[1] = 0x80 | bytes;
  for (let i = 0; i < bytes; i++) out[2 + i] = (length >>> (8 * (bytes - 1 - i))) & 0xff;
  return 2 + bytes;
}

/** One allocation per element: header and content written into a single buffer. */
export function tlv(tag: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerSize(content.length) + content.length);
  content.copy(out, writeHeader(out, tag, content.length));
  return out;
}

/** A constructed element from its parts, without concatenating the parts first. */
function constructed(tag: number, items: readonly Buffer[]): Buffer {
  let length = 0;
  for (const item of items) length += item.length;
  const out = Buffer.allocUnsafe(headerSize(length) + length);
  let offset = writeHeader(out, tag, length);
  for (const item of items) offset += item.copy(out, offset);
  return out;
}

export const sequence = (...items: Buffer[]) => constructed(Tag.SEQUENCE, items);
export const set = (...items: Buffer[]) => constructed(Tag.SET, items);
export const octetString = (b: Buffer) => tlv(Tag.OCTET_STRING, b);
export const bitString = (b: Buffer) => tlv(Tag.BIT_STRING, Buffer.concat([Buffer.from([0]), b]));
export const boolean = (v: boolean) => tlv(Tag.BOOLEAN, Buffer.from([v ? 0xff : 0]));
export const nullValue = () => Buffer.from([Tag.NULL, 0]);
/** Context-specific tag n: constructed (explicit wrappers, SEQUENCE-like) or primitive. */
export const context = (n: number, content: Buffer, constructed = true) => tlv((constructed ? 0xa0 : 0x80) | n, content);

/** A non-negative INTEGER from big-endian magnitude bytes (leading zeros trimmed, sign byte added). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let bytes = magnitude.subarray(start);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(Tag.INTEGER, bytes);
}

export function smallInteger(value: number): Buffer {
  const hex = value.toString(16);
  return unsignedInteger(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

const oidCache = new Map<string, Buffer>();

export function oid(dotted: string): Buffer {
  let cached = oidCache.get(dotted);
  if (cached) return cached;
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  cached = tlv(Tag.OID, Buffer.from(bytes));
  oidCache.set(dotted, cached);
  return cached;
}

/**
 * UTCTime for years 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5); whole seconds.
 * Written digit by digit: toISOString + regex cost ~2.9 us, which a 100,000-entry CRL pays per
 * entry (bench/pki/crl-build).
 */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const utc = year >= 1950 && year < 2050;
  const out = Buffer.allocUnsafe(utc ? 15 : 17);
  out[0] = utc ? Tag.UTC_TIME : Tag.GENERALIZED_TIME;
  out[1] = utc ? 13 : 15;
  let i = 2;
  const two = (n: number) => {
    out[i++] = 0x30 + Math.floor(n / 10);
    out[i++] = 0x30 + (n % 10);
  };
  if (!utc) two(Math.floor(year / 100));
  two(year % 100);
  two(date.getUTCMonth() + 1);
  two(date.getUTCDate());
  two(date.getUTCHours());
  two(date.getUTCMinutes());
  two(date.getUTCSeconds());
  out[i] = 0x5a; // 'Z'
  return out;
}

export const utf8String = (s: string) => tlv(Tag.UTF8_STRING, Buffer.from(s, 'utf8'));
export const ia5String = (s: string) => tlv(Tag.IA5_STRING, Buffer.from(s, 'ascii'));

// ---------------------------------------------------------------------------- decoding

export interface Node {
  tag: number;
  /** Offset of the tag byte in the source buffer. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset after the last content byte. */
  end: number;
}

/** Reads the TLV at `offset` of `buf`, bounded by `limit`. */
export function read(buf: Buffer, offset: number, limit: number = buf.length): Node {
  if (offset + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let length = buf[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported DER length');
    if (contentStart + count > limit) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[contentStart + i]!;
    contentStart += count;
    if (length < 0x80 && count === 1) throw new DerError('non-minimal DER length');
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('DER length runs past the end of its container');
  return { tag, start: offset, contentStart, end };
}

/** The children of a constructed node. */
export function children(buf: Buffer, node: Node): Node[] {
  const out: Node[] = [];
  for (let offset = node.contentStart; offset < node.end;) {
    const child = read(buf, offset, node.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.tag !== tag) throw new DerError(`${what}: unexpected structure`);
  return node;
}

export const raw = (buf: Buffer, node: Node) => buf.subarray(node.start, node.end);
export const content = (buf: Buffer, node: Node) => buf.subarray(node.contentStart, node.end);

export function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i]! & 0x7f);
    if (!(bytes[i]! & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}
