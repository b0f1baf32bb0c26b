/**
 * Opaque keyset-pagination cursors: base64url(JSON payload) + "." + truncated HMAC-SHA256.
 * The MAC (keyed by an installation secret, so every replica accepts every cursor) turns any
 * edit into a 400 instead of a silently wrong page. The payload binds the cursor to the sort and
 * the filters it was made for: reusing it with different ones is a 400 too.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './audit/chain.ts';
import { Errors } from '../errors.ts';

/** 128-bit tag: forging one is out of reach, and cursors stay short. */
const tagBytes = 16;

export interface CursorPayload {
  /** Sort key and direction, e.g. "created_at:asc". */
  s: string;
  /** Hash of the filters the cursor was issued for. */
  f: string;
  /** Last row's sort value (string, number or null) and id. */
  v: string | number | null;
  id: string;
}

export class CursorCodec {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  encode(payload: CursorPayload): string {
    const body = Buffer.from(JSON.stringify([payload.s, payload.f, payload.v, payload.id])).toString('base64url');
    return `${body}.${this.#tag(body).toString('base64url')}`;
  }

  /** Throws 400 for anything that is not a cursor this installation issued. */
  decode(token: string): CursorPayload {
    const dot = token.indexOf('.');
    const body = dot > 0 ? token.slice(0, dot) : '';
    const tag = dot > 0 ? Buffer.from(token.slice(dot + 1), 'base64url') : Buffer.alloc(0);
    if (tag.length !== tagBytes || !timingSafeEqual(tag, this.#tag(body))) {
      throw Errors.badRequest('cursor: not a valid cursor (it must be passed back exactly as received)');
    }
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as [string, string, string | number | null, string];
    return { s: parsed[0], f: parsed[1], v: parsed[2], id: parsed[3] };
  }

  #tag(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest().subarray(0, tagBytes);
  }
}

/**
 * One list's cursors: bound to its sort key and to a hash of its filters, so a cursor reused
 * with another sort or other filters is a 400 rather than a wrong page.
 */
export class Keyset {
  readonly #codec: CursorCodec;
  readonly #sort: string;
  readonly #filterKey: string;

  constructor(codec: CursorCodec, sort: string, filter: unknown) {
    this.#codec = codec;
    this.#sort = sort;
    this.#filterKey = createHash('sha256').update(canonicalJson(filter)).digest('base64url').slice(0, 16);
  }

  /** The position a cursor continues after; undefined without a cursor. */
  after(token: string | undefined): { v: string | number | null; id: string } | undefined {
    if (token === undefined) return undefined;
    const c = this.#codec.decode(token);
    if (c.s !== this.#sort || c.f !== this.#filterKey) {
      throw Errors.badRequest('cursor: it was issued for a different sort or different filters; start again without it');
    }
    return { v: c.v, id: c.id };
  }

  next(v: string | number | null, id: string): string {
    return this.#codec.encode({ s: this.#sort, f: this.#filterKey, v, id });
  }

  /**
   * One page of an id-ordered list fetched with `perPage + 1` rows: the extra row only says that
   * another page exists (it is dropped), and the cursor continues after the last row kept.
   */
  page<T extends { id: string }>(rows: T[], perPage: number): { rows: T[]; nextCursor: string | undefined } {
    const more = rows.length > perPage;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return { rows, nextCursor: more && last ? this.next(null, last.id) : undefined };
  }
}
