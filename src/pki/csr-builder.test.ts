import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildCsr } from './csr-builder.ts';
import { parseCsr, verifyCsrSignature } from './csr.ts';

describe('buildCsr', () => {
  it.each([
    ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['RSA-2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ])('%s requests verify with openssl and our parser', (_name, make) => {
    const { privateKey, publicKey } = make();
    const pem = buildCsr(privateKey, publicKey, 'agent.example.test', ['agent.example.test', 'www.example.test', '192.0.2.7']);
    const text = execFileSync('openssl', ['req', '-noout', '-verify', '-text'], { input: pem, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    expect(text).toMatch(/Subject: CN *= *agent\.example\.test/);
    expect(text).toMatch(/DNS:agent\.example\.test, DNS:www\.example\.test, IP Address:192\.0\.2\.7/);
    const parsed = parseCsr(pem);
    expect(parsed.requestedNames).toEqual(['agent.example.test', 'www.example.test', '192.0.2.7']);
    expect(verifyCsrSignature(parsed)).toBe(true);
    expect(parsed.spki.equals(publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
  });
});
