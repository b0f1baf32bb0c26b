import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acmeAccountsFor, defaultNewOrdersPerHour } from './acme.ts';
import { loadScenario, parseDuration } from './scenario.ts';

const acmeFlow = await loadScenario('acme_flow');

describe('accounts for an ACME run', () => {
  it('keeps every account under the default new-order limit, even for acme_flow as defined', () => {
    const flows = acmeFlow.rate * ((parseDuration(acmeFlow.duration) + parseDuration(acmeFlow.warmup ?? '0s')) / 1000);
    const accounts = acmeAccountsFor(acmeFlow.acme!.accounts, flows);
    expect(flows / accounts).toBeLessThanOrEqual(defaultNewOrdersPerHour * 0.85);
    // Short runs keep the scenario's own number.
    expect(acmeAccountsFor(64, 2_000)).toBe(64);
    // The server's default, as documented (test/docs keeps docs/environment.md in step with the code).
    const documented = /\| `CERTFLEET_ACME_RATE_LIMIT_NEW_ORDERS_PER_ACCOUNT_PER_HOUR` \| `(\d+)` \|/.exec(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/environment.md'), 'utf8'),
    );
    expect(Number(documented?.[1])).toBe(defaultNewOrdersPerHour);
    // A server with a lower limit, or none.
    expect(acmeAccountsFor(64, 1_700, 20)).toBe(107);
    expect(acmeAccountsFor(64, 1_000_000, 0)).toBe(64);
  });
});
