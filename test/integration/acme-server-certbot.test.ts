/**
 * Debian's certbot (2.1) against certfleet's ACME server: register, show, update and
 * deactivate an account, each a real certbot process over real HTTP on loopback. (Issuance
 * with certbot comes with the order flow.) certbot is installed by scripts/install-test-deps.sh.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-certbot-'));
});
afterAll(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function certbot(...args: string[]): Promise<string> {
  const common = ['--config-dir', path.join(dir, 'config'), '--work-dir', path.join(dir, 'work'), '--logs-dir', path.join(dir, 'logs')];
  const { stdout, stderr } = await promisify(execFile)('certbot', [...args, ...common, '--non-interactive', '--server', `${server.url}/acme/directory`], {
    timeout: 60_000,
  });
  return `${stdout}${stderr}`;
}

describe('certbot against the ACME server', () => {
  it('registers, shows, updates and deactivates an account', async () => {
    expect(await certbot('register', '--agree-tos', '--email', 'ops@example.test', '--no-eff-email')).toMatch(/Account registered/);
    const shown = await certbot('show_account');
    const accountUrl = /Account URL: (\S+)/.exec(shown)?.[1];
    expect(accountUrl).toMatch(new RegExp(`^${server.url}/acme/acct/acct-`));
    expect(shown).toMatch(/Email contact: ops@example.test/);

    expect(await certbot('update_account', '--email', 'pki@example.test')).toMatch(/updated to pki@example.test/);
    expect(await certbot('show_account')).toMatch(/Email contact: pki@example.test/);

    expect(await certbot('unregister')).toMatch(/Account deactivated/);
    const row = await withClient(server.db.url, (c) =>
      c.query<{ status: string; contact: string[]; tos_agreed: boolean }>('SELECT status, contact, tos_agreed FROM acme_accounts WHERE id = $1', [
        accountUrl!.split('/').pop(),
      ]),
    );
    expect(row.rows[0]).toEqual({ status: 'deactivated', contact: ['mailto:pki@example.test'], tos_agreed: true });
  }, 120_000);
});
