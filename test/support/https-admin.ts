/**
 * The REST API of a test server that speaks HTTPS with a test CA: fetch cannot be told to trust
 * a CA, node:https can. Used by the tests that run real ACME clients over TLS.
 */
import https from 'node:https';
import { adminKey } from './server.ts';

export function httpsAdminPost(baseUrl: string, caPem: string, urlPath: string, body: object): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${baseUrl}${urlPath}`,
      { method: 'POST', ca: caPem, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as unknown }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A profile that trusts EAB-bound accounts with names under `*.${domain}`, and an EAB key for one client. */
export async function trustingProfileWithEab(
  baseUrl: string,
  caPem: string,
  profile: { id: string; domain: string; issuerId: string; ownerId: string; teamId: string; policyId: string },
): Promise<{ kid: string; hmacKey: string }> {
  const created = await httpsAdminPost(baseUrl, caPem, '/api/v1/profiles', {
    id: profile.id,
    name: profile.id,
    san_patterns: [`*.${profile.domain}`],
    acme_auth_mode: 'trust_authenticated',
    acme_issuer_id: profile.issuerId,
    acme_owner_id: profile.ownerId,
    acme_team_id: profile.teamId,
    acme_renewal_policy_id: profile.policyId,
  });
  if (created.status !== 201) throw new Error(`profile ${profile.id}: ${created.status} ${JSON.stringify(created.body)}`);
  const eab = await httpsAdminPost(baseUrl, caPem, '/api/v1/acme/eab-keys', { name: profile.id });
  if (eab.status !== 201) throw new Error(`EAB key: ${eab.status} ${JSON.stringify(eab.body)}`);
  const { id, hmac_key } = eab.body as { id: string; hmac_key: string };
  return { kid: id, hmacKey: hmac_key };
}
