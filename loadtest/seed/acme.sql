-- The ACME server's load-test world (needs certificates.sql first): profile load-acme offered over
-- ACME without challenges (trust_authenticated), profile load-acme-challenge with them, and issued versions :from..:to of the seeded
-- certificates for renewal-info lookups by known serials. Idempotent (ON CONFLICT DO NOTHING).
--   serial of load-cert-N's version = to_hex(16777216 + N) (so each is 4 bytes, first bit clear)
--   psql -v from=1 -v to=1000 -f loadtest/seed/acme.sql
INSERT INTO certificate_profiles (id, name, description, acme_auth_mode, acme_issuer_id, acme_owner_id, acme_team_id, acme_renewal_policy_id)
VALUES ('load-acme', 'load-acme', 'load test: any name, no challenge', 'trust_authenticated', 'load-issuer', 'load-owner', 'load-team', 'load-policy')
ON CONFLICT DO NOTHING;
-- load-acme-challenge: the same inventory, every authorization validated (http-01 against the load
-- driver's responder: npm run loadtest -- acme_flow --acme-mode challenge).
INSERT INTO certificate_profiles (id, name, description, acme_auth_mode, acme_issuer_id, acme_owner_id, acme_team_id, acme_renewal_policy_id)
VALUES ('load-acme-challenge', 'load-acme-challenge', 'load test: any name, proven by a challenge', 'challenge', 'load-issuer', 'load-owner', 'load-team', 'load-policy')
ON CONFLICT DO NOTHING;

INSERT INTO certificate_versions (id, certificate_id, serial_number, not_before, not_after, fingerprint_sha256, pem_chain)
SELECT 'load-ver-' || lpad(i::text, 7, '0'), 'load-cert-' || lpad(i::text, 7, '0'), to_hex(16777216 + i),
       now() - interval '1 day', now() + make_interval(days => 31 + i % 365), md5('load-ver-' || i) || md5('load-ver-' || i), ''
  FROM generate_series(:from::int, :to::int) AS i
ON CONFLICT DO NOTHING;
