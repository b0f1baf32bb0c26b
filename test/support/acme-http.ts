/**
 * Hand-made ACME requests, for what no real client would send (and the few checks a client
 * library hides): JWS signed here, POSTed over real HTTP, problem documents checked.
 */
import { sign, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';

export const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A flattened JWS signed by hand with an ECDSA key: ES256 unless `alg` names ES384 or ES512. */
export function jws(privateKey: KeyObject, header: Record<string, unknown>, payload: string | object): string {
  const protectedB64 = b64(JSON.stringify({ alg: 'ES256', ...header }));
  const payloadB64 = b64(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const hashes: Record<string, string> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };
  const alg = String(header.alg ?? 'ES256');
  const hash = Object.hasOwn(hashes, alg) ? hashes[alg]! : 'sha256'; // a fuzzed alg may be 'constructor'
  const signature = sign(hash, Buffer.from(`${protectedB64}.${payloadB64}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return JSON.stringify({ protected: protectedB64, payload: payloadB64, signature: b64(signature) });
}

export interface AcmeAnswer {
  res: Response;
  status: number;
  nonce: string | null;
  body: Record<string, unknown> | undefined;
}

export function acmeHttp(baseUrl: () => string) {
  return {
    async freshNonce(): Promise<string> {
      const res = await fetch(`${baseUrl()}/acme/new-nonce`, { method: 'HEAD' });
      return res.headers.get('replay-nonce')!;
    },
    async post(path: string, body: string, contentType = 'application/jose+json'): Promise<AcmeAnswer> {
      const res = await fetch(`${baseUrl()}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
      const text = await res.text();
      const json = text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      return { res, status: res.status, nonce: res.headers.get('replay-nonce'), body: json };
    },
  };
}

/** An ACME error: its status, problem type, content type and a fresh nonce. */
export function expectProblem(answer: AcmeAnswer, status: number, type: string): void {
  expect({ status: answer.status, type: answer.body?.type }).toEqual({ status, type: `urn:ietf:params:acme:error:${type}` });
  expect(answer.res.headers.get('content-type')).toBe('application/problem+json');
  expect(answer.nonce, 'every error carries a fresh nonce').toMatch(/^[A-Za-z0-9_-]{43}$/);
}
