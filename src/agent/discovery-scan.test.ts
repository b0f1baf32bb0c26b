import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportChunks, scanDirectories } from './discovery-scan.ts';

let dir: string;
const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['pipe', 'pipe', 'ignore'] });
const selfSigned = (cn: string) =>
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', '/dev/null']).toString();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-scan-'));
  const sub = path.join(dir, 'nginx', 'ssl');
  fs.mkdirSync(sub, { recursive: true });
  fs.writeFileSync(path.join(sub, 'bundle.crt'), selfSigned('leaf.example.test') + selfSigned('ca.example.test'));
  const pem = selfSigned('der.example.test');
  fs.writeFileSync(path.join(dir, 'one.pem.tmp'), pem);
  fs.writeFileSync(path.join(dir, 'one.der'), execFileSync('openssl', ['x509', '-outform', 'DER', '-in', path.join(dir, 'one.pem.tmp')]));
  fs.rmSync(path.join(dir, 'one.pem.tmp'));
  fs.writeFileSync(path.join(dir, 'server.key'), 'not scanned');
  fs.writeFileSync(path.join(dir, 'README'), selfSigned('no-extension.example.test'));
  fs.writeFileSync(path.join(dir, 'nginx.conf'), 'server { listen 443 ssl; }');
  fs.writeFileSync(path.join(dir, 'private.pem'), openssl(['genpkey', '-algorithm', 'ed25519']).toString());
  fs.writeFileSync(path.join(dir, 'broken.der'), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]));
  fs.writeFileSync(path.join(dir, 'mangled.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  fs.writeFileSync(path.join(dir, 'huge.pem'), Buffer.alloc(1024 * 1024 + 1, 0x41));
  fs.symlinkSync(dir, path.join(sub, 'loop')); // a cycle: never followed
  fs.symlinkSync(path.join(sub, 'bundle.crt'), path.join(dir, 'linked.crt')); // a link to a file: followed
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('scanDirectories', () => {
  it('finds certificates by extension and content, and reports what it cannot read', async () => {
    const scan = await scanDirectories([dir, path.join(dir, 'missing')]);
    const found = scan.certificates.map((c) => `${path.relative(dir, c.source_path)}:${c.source_format}`).sort();
    expect(found).toEqual(['linked.crt:PEM', 'linked.crt:PEM', 'nginx/ssl/bundle.crt:PEM', 'nginx/ssl/bundle.crt:PEM', 'one.der:DER']);
    expect(scan.certificates.every((c) => c.pem_data.startsWith('-----BEGIN CERTIFICATE-----'))).toBe(true);
    expect(scan.errors.map((e) => path.relative(dir, e.split(':')[0]!)).sort()).toEqual(['broken.der', 'mangled.crt', 'missing']);
    expect(scan.directories).toEqual([dir, path.join(dir, 'missing')]);
    expect(scan.scan_duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('splits a large scan into reports the server accepts, errors in the first', () => {
    const scan = {
      directories: ['/d'],
      certificates: Array.from({ length: 1201 }, (_, i) => ({ pem_data: 'x', source_path: `/d/${i}`, source_format: 'PEM' as const })),
      errors: ['e'],
      scan_duration_ms: 1,
    };
    const chunks = [...reportChunks(scan)];
    expect(chunks.map((c) => c.certificates.length)).toEqual([500, 500, 201]);
    expect(chunks.map((c) => c.errors.length)).toEqual([1, 0, 0]);
    expect([...reportChunks({ ...scan, certificates: [] })]).toHaveLength(1); // an empty scan is still reported
  });
});
