/**
 * The certificate chains this replica's finalizes issued, kept for the download that follows
 * (RFC 8555 7.4.2: a client POSTs to the order's certificate URL right after finalize). An
 * issued chain never changes, and an order that holds a certificate is never deleted, so an
 * entry cannot go stale; the map only bounds how many are kept. A miss reads the database.
 */
export class IssuedChains {
  readonly #chains = new Map<string, { accountId: string; chain: string }>();
  constructor(readonly maxEntries: number) {}

  /** Only once the finalize that issued `chain` has committed. */
  set(orderId: string, accountId: string, chain: string): void {
    if (this.#chains.size >= this.maxEntries) this.#chains.delete(this.#chains.keys().next().value!);
    this.#chains.set(orderId, { accountId, chain });
  }

  get(orderId: string): { accountId: string; chain: string } | undefined {
    return this.#chains.get(orderId);
  }

  get size(): number {
    return this.#chains.size;
  }
}
