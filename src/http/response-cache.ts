/**
 * Cached responses of GET routes that opt in (`RouteDefinition.cache`), keyed by route, raw query
 * and the caller's role, and valid for one version of the data they depend on (the change feed:
 * src/db/change-feed.ts). A hit answers without the database: a 200 from the stored bytes, or a
 * 304 when If-None-Match matches. Requests that miss together for the same key and version share
 * one computation. Bounded by bytes (oldest entries out first); bypassed entirely while the
 * change feed is down, so a cache can be slow but never stale.
 */

/** What the cache needs from the change feed (src/db/change-feed.ts implements it). */
export interface ChangeVersions {
  readonly healthy: boolean;
  /** Changes whenever anything in `buckets` (or, undefined, anything at all) changed. */
  version(buckets?: readonly string[]): number;
  /** Resolves once every change acknowledged anywhere before the call is reflected in `version`. */
  fresh(): Promise<void>;
}

export interface CachedResponse {
  contentType: string;
  payload: Buffer;
  etag: string;
}

interface Entry extends CachedResponse {
  version: number;
}

export class ResponseCache {
  readonly #maxBytes: number;
  /** Insertion order is age: the first entry is evicted first. */
  readonly #entries = new Map<string, Entry>();
  readonly #flights = new Map<string, { version: number; result: Promise<CachedResponse | undefined> }>();
  #bytes = 0;
  hits = 0;
  misses = 0;
  /** Misses answered by another request's computation. */
  shared = 0;

  constructor(options: { maxBytes: number }) {
    this.#maxBytes = options.maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The stored response for `key` at `version`, if there is one. */
  get(key: string, version: number): CachedResponse | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.version === version) {
      this.hits += 1;
      return entry;
    }
    return undefined;
  }

  /**
   * The response for `key` at `version`: computed by `compute` unless a computation for the same
   * key and version is already running, whose result is shared. `compute` resolving undefined
   * (not cacheable: an error, another status) is passed on and stored nowhere.
   */
  compute(key: string, version: number, compute: () => Promise<CachedResponse | undefined>): Promise<CachedResponse | undefined> {
    const flight = this.#flights.get(key);
    if (flight && flight.version === version) {
      this.shared += 1;
      return flight.result;
    }
    this.misses += 1;
    const result = compute().then((response) => {
      if (response) this.#store(key, { ...response, version });
      return response;
    });
    const mine = { version, result };
    this.#flights.set(key, mine);
    const clear = () => {
      if (this.#flights.get(key) === mine) this.#flights.delete(key);
    };
    result.then(clear, clear);
    return result;
  }

  #store(key: string, entry: Entry): void {
    const size = entry.payload.byteLength + key.length;
    if (size > this.#maxBytes / 8) return; // one huge page must not flush everything else
    const old = this.#entries.get(key);
    if (old) {
      this.#bytes -= old.payload.byteLength + key.length;
      this.#entries.delete(key);
    }
    while (this.#bytes + size > this.#maxBytes && this.#entries.size > 0) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#entries.delete(oldestKey);
      this.#bytes -= oldest.payload.byteLength + oldestKey.length;
    }
    this.#entries.set(key, entry);
    this.#bytes += size;
  }
}
