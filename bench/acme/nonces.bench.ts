/**
 * ACME nonces (src/acme/nonces.ts): minting runs on every ACME response and must cost no
 * database round trip; redeeming checks the tag and age in memory before the one INSERT that
 * spends it (replaced here by an in-memory set, so the case measures the CPU part only).
 * Goal: tens of thousands of new-nonce requests a second on one core, so mint << 10 us.
 */
import { randomBytes } from 'node:crypto';
import { NonceService } from '../../src/acme/nonces.ts';
import type { BenchFile } from '../harness.ts';

const spent = new Set<string>();
const nonces = new NonceService({
  key: randomBytes(32),
  ttlSeconds: 1800,
  spent: { spend: async (id) => !spent.has(id.toString('latin1')) && (spent.add(id.toString('latin1')), true) },
});
const forged = `${nonces.mint().slice(0, 42)}B`;

export default {
  title: 'ACME nonces: mint, redeem (CPU part), reject a forgery',
  cases: () => [
    { name: 'mint', fn: () => void nonces.mint() },
    { name: 'mint + redeem (in-memory spent set)', defer: true, fn: (done) => void nonces.redeem(nonces.mint()).then(done) },
    { name: 'redeem a forged nonce (rejected before any query)', defer: true, fn: (done) => void nonces.redeem(forged).catch(done) },
  ],
} satisfies BenchFile;
