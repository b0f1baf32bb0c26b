/**
 * The REST API of a test server started as a process or over HTTPS with a test CA, where the
 * in-process `server.request` is not at hand: fetch cannot be told to trust a CA, node:https can.
 * Used by the tests that run real ACME clients.
 */
import http from 'node:http';
import https from 'node:https';
import type { Inventory } from './fixtures.ts';
import { adminKey } from './server.ts';

/** POSTs `body` as the admin; `caPem` for a server that speaks HTTPS with a test CA. Throws unless 201. */
export function adminPost(baseUrl: string, urlPath: string, body: object, caPem?: string): Promise<Record<string, string>> {
  const url = new URL(urlPath, baseUrl);
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { method: 'POST', ...(caPem ? { ca: caPem } : {}), headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 201) reject(new Error(`${urlPath}: ${res.statusCode} ${text}`));
          else resolve(JSON.parse(text) as Record<string, string>);
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A profile `id` that trusts EAB-bound accounts with names under `*.${domain}`, issuing into `inv`. */
export async function trustingProfile(baseUrl: string, id: string, domain: string, inv: Inventory, caPem?: string): Promise<void> {
  const profile = {
    id,
    name: id,
    san_patterns: [`*.${domain}`],
    acme_auth_mode: 'trust_authenticated',
    acme_issuer_id: inv.issuerId,
    acme_owner_id: inv.ownerId,
    acme_team_id: inv.teamId,
    acme_renewal_policy_id: inv.policyId,
  };
  await adminPost(baseUrl, '/api/v1/profiles', profile, caPem);
}

/** An EAB key for one client: its kid and HMAC key. */
export async function eabKey(baseUrl: string, name: string, caPem?: string): Promise<{ kid: string; hmacKey: string }> {
  const created = await adminPost(baseUrl, '/api/v1/acme/eab-keys', { name }, caPem);
  return { kid: created.id!, hmacKey: created.hmac_key! };
}
