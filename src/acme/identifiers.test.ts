import { describe, expect, it } from 'vitest';
import { canonicalIp, parseIdentifiers } from './identifiers.ts';
import { AcmeProblem } from './problems.ts';
import { accountLabel, reverseName } from './validators.ts';

function rejection(value: unknown): AcmeProblem {
  try {
    parseIdentifiers(value);
  } catch (err) {
    if (err instanceof AcmeProblem) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('ACME identifiers', () => {
  it('lowercases names, keeps one wildcard label, drops repeats and canonicalises IP addresses', () => {
    expect(
      parseIdentifiers([
        { type: 'dns', value: 'WWW.Example.test' },
        { type: 'dns', value: 'www.example.test' },
        { type: 'dns', value: '*.example.test' },
        { type: 'ip', value: '2001:DB8:0:0:0:0:0:1' },
        { type: 'ip', value: '2001:db8::1' },
        { type: 'ip', value: '192.0.2.1' },
      ]),
    ).toEqual([
      { type: 'dns', value: 'www.example.test' },
      { type: 'dns', value: '*.example.test' },
      { type: 'ip', value: '2001:db8::1' },
      { type: 'ip', value: '192.0.2.1' },
    ]);
  });

  it('names every rejected identifier in a subproblem', () => {
    const problem = rejection([
      { type: 'email', value: 'a@b.test' },
      { type: 'dns', value: 'a..b.test' },
      { type: 'dns', value: 'x.*.test' },
      { type: 'dns', value: '10.0.0.1' },
      { type: 'ip', value: '300.1.1.1' },
      { type: 'dns', value: `${'a'.repeat(64)}.test` },
    ]);
    expect(problem.type).toBe('rejectedIdentifier');
    expect(problem.extra.subproblems!.map((p) => [p.type.split(':').pop(), p.identifier!.value])).toEqual([
      ['unsupportedIdentifier', 'a@b.test'],
      ['rejectedIdentifier', 'a..b.test'],
      ['rejectedIdentifier', 'x.*.test'],
      ['rejectedIdentifier', '10.0.0.1'],
      ['rejectedIdentifier', '300.1.1.1'],
      ['rejectedIdentifier', `${'a'.repeat(64)}.test`],
    ]);
    expect(rejection([{ type: 'email', value: 'a@b.test' }]).type).toBe('unsupportedIdentifier');
    expect(rejection([]).type).toBe('malformed');
    expect(rejection(Array.from({ length: 101 }, (_, i) => ({ type: 'dns', value: `n${i}.test` }))).type).toBe('rejectedIdentifier');
  });

  it('writes IP addresses, their reverse names and dns-account-01 labels as the RFCs and the draft say', () => {
    expect(canonicalIp('::FFFF:0:1')).toBe('::ffff:0:1');
    expect(canonicalIp('fe80::1%eth0')).toBeUndefined();
    expect(canonicalIp('example.test')).toBeUndefined();
    expect(reverseName('192.0.2.1')).toBe('1.2.0.192.in-addr.arpa');
    // draft-ietf-acme-dns-account-label-01; the value from Python's base64.b32encode as the oracle.
    expect(accountLabel('https://ca.example/acme/acct/acct-123')).toBe('_v665amkvnklqk2nj');
    expect(reverseName('2001:db8::1')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });
});
