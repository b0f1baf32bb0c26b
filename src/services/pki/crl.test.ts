/**
 * CrlService when another replica stores a CRL first: the number it took is never served with
 * our contents (RFC 5280 5.2.3: one number, one CRL); the stored one is served and a rebuild
 * follows, numbered after it. The repository is in memory and the signer a stand-in: what is
 * under test is the race handling, not signing (revocation-crl.test.ts covers that with openssl).
 */
import { describe, expect, it } from 'vitest';
import type { RevocationRepository, StoredCrl } from '../../db/revocations.ts';
import { createLogger } from '../../observability/logger.ts';
import type { WorkerPool } from '../../workers/pool.ts';
import { CrlService } from './crl.ts';
import type { CaSpec, LocalCaRegistry } from './local-ca.ts';
import { untilTrue } from '../../../test/support/until.ts';

describe('CrlService', () => {
  it('serves the stored CRL when its number was taken, then rebuilds after it', async () => {
    let stored: StoredCrl | undefined = { crl_number: 7, der: Buffer.from('ours-old'), this_update: new Date(0), next_update: new Date(1) };
    const attempts: number[] = [];
    let raced = false;
    const repo = {
      storedCrl: async () => stored,
      forCrl: async () => ({ serials: [], revokedAt: [], reasons: [] }),
      storeCrl: async (_issuer: string, crl: StoredCrl) => {
        attempts.push(crl.crl_number);
        if (!raced) {
          raced = true; // another replica stores 8 first, with other contents
          stored = { crl_number: 8, der: Buffer.from('theirs'), this_update: new Date(), next_update: new Date(Date.now() + 86_400_000) };
          return false;
        }
        stored = crl;
        return true;
      },
    } as unknown as RevocationRepository;
    let built = 0;
    const workers = { run: async () => Buffer.from(`ours-${++built}`) } as unknown as WorkerPool;
    const cas = { get: async () => ({ keyPkcs8: new Uint8Array(), certificateDer: new Uint8Array() }) } as unknown as LocalCaRegistry;
    const spec = {} as CaSpec;
    const crls = new CrlService({ repo, cas, workers, log: createLogger({ level: 'silent' }), issuerCaSpec: async () => spec, debounceMs: 10 });

    const served = await crls.rebuild('iss', spec);
    expect(served.crlNumber).toBe(8);
    expect(served.der.toString()).toBe('theirs');
    await untilTrue('the follow-up rebuild', () => attempts.length === 2, { timeoutMs: 5_000, intervalMs: 10 });
    expect(attempts).toEqual([8, 9]);
    expect(stored!.der.toString()).toBe('ours-2');
    crls.close();
  });
});
