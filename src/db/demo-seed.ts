/**
 * A small, realistic demo inventory (`certfleet seed --demo`, or CERTFLEET_DEMO_SEED=true at
 * serve). Idempotent: fixed ids with ON CONFLICT DO NOTHING, so running it again adds nothing
 * and never overwrites what a user changed.
 */
import type { Pool } from './pool.ts';
import { withTransaction } from './sql.ts';

const statements = [
  `INSERT INTO teams (id, name, description) VALUES
     ('t-platform', 'Platform Engineering', 'Shared infrastructure and ingress'),
     ('t-security', 'Security', 'PKI and identity'),
     ('t-payments', 'Payments', 'Card processing services')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO owners (id, name, email, team_id) VALUES
     ('o-alice', 'Alice Chen', 'alice@example.com', 't-platform'),
     ('o-bob', 'Bob Martinez', 'bob@example.com', 't-security'),
     ('o-carol', 'Carol Okafor', 'carol@example.com', 't-payments')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO issuers (id, name, type, config) VALUES
     ('iss-local', 'Local Dev CA', 'local', '{"ca_common_name":"certfleet Demo CA","validity_days":90}')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO renewal_policies (id, name, renewal_window_days, auto_renew, max_retries, retry_interval_seconds, alert_thresholds_days) VALUES
     ('rp-standard', 'Standard 30-day', 30, true, 3, 60, '{30,14,7,0}'),
     ('rp-urgent', 'Urgent 14-day', 14, true, 5, 60, '{14,7,3,1,0}'),
     ('rp-manual', 'Manual renewal', 30, false, 0, 3600, '{30,14,7,0}')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO certificate_profiles (id, name, description, max_ttl_seconds, allowed_ekus, san_patterns) VALUES
     ('prof-tls-server', 'TLS server', 'Public-facing TLS, 90 days at most', 7776000, '{serverAuth}', '{*.example.com,example.com}'),
     ('prof-mtls-client', 'mTLS client', 'Service identities for mutual TLS', 2592000, '{clientAuth}', '{}')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO agents (id, name, hostname, status, os, architecture, ip_address, version) VALUES
     ('ag-web-01', 'web-01', 'web-01.prod.example.com', 'Offline', 'linux', 'amd64', '10.0.1.11', '0.1.0'),
     ('ag-web-02', 'web-02', 'web-02.prod.example.com', 'Offline', 'linux', 'amd64', '10.0.1.12', '0.1.0'),
     ('ag-lb-01', 'lb-01', 'lb-01.prod.example.com', 'Offline', 'linux', 'arm64', '10.0.0.5', '0.1.0')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO agent_liveness (agent_id) VALUES ('ag-web-01'), ('ag-web-02'), ('ag-lb-01') ON CONFLICT DO NOTHING`,
  `INSERT INTO deployment_targets (id, name, type, agent_id, config) VALUES
     ('target-web-01-nginx', 'nginx', 'NGINX', 'ag-web-01', '{"cert_path":"/etc/nginx/tls/site.pem","key_path":"/etc/nginx/tls/site.key"}'),
     ('target-web-02-nginx', 'nginx', 'NGINX', 'ag-web-02', '{"cert_path":"/etc/nginx/tls/site.pem","key_path":"/etc/nginx/tls/site.key"}'),
     ('target-lb-01-haproxy', 'haproxy', 'HAProxy', 'ag-lb-01', '{"pem_path":"/etc/haproxy/certs/site.pem","admin_socket":"/run/haproxy/admin.sock"}')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO certificates (id, name, common_name, sans, environment, owner_id, team_id, issuer_id, renewal_policy_id,
                             certificate_profile_id, status, expires_at, tags) VALUES
     ('mc-www', 'www-example-com', 'www.example.com', '{www.example.com,example.com}', 'production', 'o-alice', 't-platform', 'iss-local', 'rp-standard', 'prof-tls-server', 'Active', now() + interval '62 days', '{"app":"website"}'),
     ('mc-api', 'api-example-com', 'api.example.com', '{api.example.com}', 'production', 'o-alice', 't-platform', 'iss-local', 'rp-standard', 'prof-tls-server', 'Expiring', now() + interval '12 days', '{"app":"api"}'),
     ('mc-pay', 'pay-example-com', 'pay.example.com', '{pay.example.com}', 'production', 'o-carol', 't-payments', 'iss-local', 'rp-urgent', 'prof-tls-server', 'Active', now() + interval '80 days', '{"pci":"true"}'),
     ('mc-stage', 'staging-example-com', 'staging.example.com', '{staging.example.com}', 'staging', 'o-alice', 't-platform', 'iss-local', 'rp-standard', NULL, 'Pending', 'infinity', '{}'),
     ('mc-vault', 'vault-client', 'vault.internal.example.com', '{}', 'production', 'o-bob', 't-security', 'iss-local', 'rp-manual', 'prof-mtls-client', 'Active', now() + interval '25 days', '{}'),
     ('mc-old', 'legacy-example-com', 'legacy.example.com', '{legacy.example.com}', 'production', 'o-bob', 't-security', 'iss-local', 'rp-manual', NULL, 'Expired', now() - interval '3 days', '{"decommission":"2026-12"}')
   ON CONFLICT DO NOTHING`,
  `INSERT INTO certificate_target_mappings (certificate_id, target_id) VALUES
     ('mc-www', 'target-web-01-nginx'), ('mc-www', 'target-web-02-nginx'), ('mc-www', 'target-lb-01-haproxy'),
     ('mc-api', 'target-web-01-nginx'), ('mc-pay', 'target-lb-01-haproxy')
   ON CONFLICT DO NOTHING`,
];

/** Applies the demo inventory in one transaction; returns the certificates it added. */
export function seedDemoInventory(pool: Pool): Promise<number> {
  return withTransaction(pool, async (client) => {
    let added = 0;
    for (const sql of statements) {
      const { rowCount } = await client.query(sql);
      if (sql.startsWith('INSERT INTO certificates ')) added = rowCount ?? 0;
    }
    return added;
  });
}
