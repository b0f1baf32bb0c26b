/**
 * Request bodies: JSON parse (with the NUL check of src/http/body.ts) and the route's zod schema,
 * for the heartbeat (hot, tiny body) and a certificate create (typical write).
 */
import { parseJson } from '../../src/http/body.ts';
import { HeartbeatSchema } from '../../src/http/routes/agents/schema.ts';
import { CertificatesCreateSchema } from '../../src/http/routes/certificates/schema.ts';
import type { BenchFile } from '../harness.ts';

const heartbeat = Buffer.from(JSON.stringify({ hostname: 'web-01.fleet.test', os: 'linux', architecture: 'x64', ip_address: '10.0.0.7', version: '0.1.0' }));
const certificate = Buffer.from(
  JSON.stringify({
    name: 'api-example-com',
    common_name: 'api.example.com',
    sans: ['api.example.com', 'www.api.example.com'],
    owner_id: 'o-alice',
    team_id: 't-platform',
    issuer_id: 'iss-local',
    renewal_policy_id: 'rp-standard',
    environment: 'production',
    tags: { service: 'api', tier: 'gold' },
  }),
);
const withNul = Buffer.from('{"name":"a\\u0000b"}');

export default {
  title: `request bodies: heartbeat (${heartbeat.length} B) and certificate create (${certificate.length} B)`,
  cases: () => [
    { name: 'JSON.parse heartbeat (for scale)', fn: () => void JSON.parse(heartbeat.toString('utf8')) },
    { name: 'parseJson heartbeat', fn: () => void parseJson(heartbeat) },
    { name: 'parseJson + HeartbeatSchema', fn: () => void HeartbeatSchema.parse(parseJson(heartbeat)) },
    { name: 'parseJson + CertificatesCreateSchema', fn: () => void CertificatesCreateSchema.parse(parseJson(certificate)) },
    {
      name: 'parseJson of a body with \\u0000 (the exact check runs, then 400)',
      fn: () => {
        try {
          parseJson(withNul);
        } catch {
          // expected
        }
      },
    },
  ],
} satisfies BenchFile;
