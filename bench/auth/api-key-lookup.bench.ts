/**
 * Bearer authentication on a warm cache: SHA-256 of the token, Map lookup, timingSafeEqual.
 * This runs on every authenticated request, so it must stay in the microseconds.
 */
import type { AuditWriter } from '../../src/services/audit/writer.ts';
import { ApiKeyService, generateApiKeySecret, hashApiKey } from '../../src/services/auth/api-keys.ts';
import type { ApiKeyRepository } from '../../src/db/api-keys.ts';
import type { ApiKeyRow } from '../../src/domain/api-keys.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { BenchFile } from '../harness.ts';

const secrets = Array.from({ length: 10_000 }, () => generateApiKeySecret());
const rows = new Map<string, ApiKeyRow>(
  secrets.map((s, i) => [
    hashApiKey(s),
    {
      id: `ak-${i}`,
      name: `k${i}`,
      role: 'operator',
      key_hash: hashApiKey(s),
      created_at: new Date(),
      last_used_at: null,
      expires_at: null,
      revoked_at: null,
      agent_id: null,
    },
  ]),
);
// An in-memory repository: the bench measures the service's cached path, not PostgreSQL.
const repo = {
  findByHash: async (hash: string) => rows.get(hash),
  findByHashes: async (hashes: string[]) => hashes.flatMap((h) => (rows.has(h) ? [rows.get(h)!] : [])),
  touchLastUsed: async () => undefined,
} as unknown as ApiKeyRepository;
// Only authentication runs here: nothing is created or revoked, so nothing is audited.
const service = new ApiKeyService({ repo, log: createLogger({ level: 'silent' }), audit: {} as AuditWriter });
let i = 0;

export default {
  title: 'API key authentication, warm cache (10,000 keys)',
  setup: async () => {
    await Promise.all(secrets.map((s) => service.authenticate(s)));
  },
  teardown: () => service.close(),
  cases: () => [
    { name: 'hashApiKey (SHA-256 hex of a 47-char token)', fn: () => void hashApiKey(secrets[i++ % secrets.length]!) },
    {
      name: 'authenticate, cache hit (awaited)',
      defer: true,
      fn: (done) => void service.authenticate(secrets[i++ % secrets.length]!).then(done),
    },
  ],
} satisfies BenchFile;
