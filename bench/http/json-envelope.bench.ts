/**
 * Building a certificate list response: presenting 50 rows and serialising the envelope,
 * with and without a `fields=` projection. This is the CPU part of GET /api/v1/certificates.
 */
import type { CertificateRow } from '../../src/domain/certificates.ts';
import { presentCertificate } from '../../src/http/presenters/certificate.ts';
import { pick } from '../../src/http/presenters/row.ts';
import type { BenchFile } from '../harness.ts';

const now = new Date();
const rows: CertificateRow[] = Array.from({ length: 50 }, (_, i) => ({
  id: `cert-019ab3c4d5e6f1a2b3c4d${String(i).padStart(3, '0')}`,
  name: `svc-${i}.example.com`,
  common_name: `svc-${i}.example.com`,
  sans: [`svc-${i}.example.com`, `alt-${i}.example.com`],
  environment: 'production',
  owner_id: 'o-alice',
  team_id: 't-platform',
  issuer_id: 'iss-local',
  renewal_policy_id: 'rp-standard',
  certificate_profile_id: 'prof-tls-server',
  target_ids: ['target-web-01-nginx', 'target-web-02-nginx'],
  status: 'Active',
  expires_at: new Date(now.getTime() + i * 86_400_000),
  tags: { app: 'web', tier: 'gold' },
  last_renewal_at: now,
  last_deployment_at: now,
  revoked_at: null,
  revocation_reason: null,
  source: 'API',
  created_at: now,
  updated_at: now,
}));

export default {
  title: 'certificate list envelope: present 50 rows + JSON.stringify',
  cases: () => [
    {
      name: 'full rows',
      fn: () => void JSON.stringify({ data: rows.map(presentCertificate), total: 100_000, per_page: 50, page: 1, next_cursor: 'x' }),
    },
    {
      name: 'fields=id,name,status,expires_at',
      fn: () =>
        void JSON.stringify({
          data: rows.map((r) => pick(presentCertificate(r), ['id', 'name', 'status', 'expires_at'])),
          total: 100_000,
          per_page: 50,
        }),
    },
  ],
} satisfies BenchFile;
