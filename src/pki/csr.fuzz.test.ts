/**
 * Structure-aware fuzzing of the CSR parser (issue 12, finding 4: an iPAddress SAN of 3 or 5
 * bytes gave a RangeError 500, an extensionRequest holding an empty SEQUENCE a TypeError 500).
 * Seeds are real requests from openssl (P-256, P-384, RSA, Ed25519; DNS, IPv4, IPv6, email and
 * URI names); fast-check mutates them where DER is fragile: tag bytes, length bytes (short,
 * long, indefinite, oversized), truncation, insertion, bit flips, swapped subtrees.
 * Property: checkCsr answers ok or a reason, and never throws, whatever the bytes.
 *
 * CI runs a fixed seed and a bounded count; `CERTFLEET_FUZZ_RUNS=200000 npm run faults` runs
 * long (docs/operator/reliability.md).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCsr } from './csr-check.ts';
import { csrToDer } from './csr.ts';
import { nameWithCommonName, signatureAlgorithmFor } from './certificate.ts';
import { bitString, children, context, octetString, oid, read, sequence, set, smallInteger, tlv, type Node } from './der.ts';

const runs = Number(process.env.CERTFLEET_FUZZ_RUNS ?? 3000);
const seed = Number(process.env.CERTFLEET_FUZZ_SEED ?? 20261201);

function opensslCsr(keyArgs: string[], san: string): Buffer {
  const pem = execFileSync(
    'openssl',
    ['req', '-new', ...keyArgs, '-nodes', '-subj', '/CN=fuzz.example.test/O=Fuzz', '-addext', `subjectAltName=${san}`, '-keyout', '/dev/null'],
    {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  return csrToDer(pem);
}

const seeds = [
  opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'DNS:fuzz.example.test,DNS:*.fuzz.example.test,IP:10.0.0.1'),
  opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'IP:2001:db8::1,email:ops@example.test'),
  opensslCsr(['-newkey', 'rsa:2048'], 'DNS:a.example.test,URI:spiffe://example.test/x'),
  opensslCsr(['-newkey', 'ed25519'], 'DNS:ed.example.test'),
];

/** Offsets of every tag and length byte, walking every TLV that parses as constructed. */
function structure(der: Buffer): { tags: number[]; lengths: number[]; nodes: Node[] } {
  const tags: number[] = [];
  const lengths: number[] = [];
  const nodes: Node[] = [];
  const walk = (buf: Buffer, node: Node, base: number) => {
    tags.push(base + node.start);
    lengths.push(base + node.start + 1);
    nodes.push({ ...node, start: base + node.start, contentStart: base + node.contentStart, end: base + node.end });
    if (node.tag & 0x20) {
      try {
        for (const child of children(buf, node)) walk(buf, child, base);
      } catch {
        // a primitive that looks constructed: not walked
      }
    } else if (node.tag === 0x04 || node.tag === 0x03) {
      // OCTET STRING / BIT STRING wrapping DER (extnValue, the RSA key): walk inside too.
      const inner = buf.subarray(node.contentStart + (node.tag === 0x03 ? 1 : 0), node.end);
      try {
        const innerNode = read(inner, 0);
        if (innerNode.end === inner.length) walk(inner, innerNode, base + node.contentStart + (node.tag === 0x03 ? 1 : 0));
      } catch {
        // not DER inside
      }
    }
  };
  walk(der, read(der, 0), 0);
  return { tags, lengths, nodes };
}
const maps = seeds.map(structure);

type Mutation =
  | { kind: 'tag'; at: number; value: number }
  | { kind: 'length'; at: number; bytes: readonly number[] }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: readonly number[] }
  | { kind: 'swap'; a: number; b: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('tag' as const),
    at: fc.nat(),
    value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x02, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x30, 0x31, 0xa0, 0x81, 0x82, 0x87, 0x1f)),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    bytes: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 0x7f })).map((t) => [...t]),
      fc.constantFrom([0x80], [0x81, 0x00], [0x81, 0x7f], [0x82, 0xff, 0xff], [0x84, 0xff, 0xff, 0xff, 0xff], [0x85, 1, 0, 0, 0, 0], [0x00]),
    ),
  }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
);

function mutate(index: number, mutations: Mutation[]): Buffer {
  let der = Buffer.from(seeds[index]!);
  const map = maps[index]!;
  const pick = (list: number[], n: number) => list[n % list.length]!;
  for (const m of mutations) {
    switch (m.kind) {
      case 'tag': {
        const at = pick(map.tags, m.at);
        if (at < der.length) der[at] = m.value;
        break;
      }
      case 'length': {
        const at = pick(map.lengths, m.at);
        if (at < der.length) der = Buffer.concat([der.subarray(0, at), Buffer.from(m.bytes), der.subarray(at + 1)]);
        break;
      }
      case 'flip': {
        const at = m.at % der.length;
        der[at] = der[at]! ^ (1 << m.bit);
        break;
      }
      case 'truncate':
        der = der.subarray(0, m.at % der.length);
        break;
      case 'insert': {
        const at = m.at % (der.length + 1);
        der = Buffer.concat([der.subarray(0, at), Buffer.from(m.bytes), der.subarray(at)]);
        break;
      }
      case 'swap': {
        // Two subtrees trade places: well-formed pieces in the wrong places.
        const a = map.nodes[m.a % map.nodes.length]!;
        const b = map.nodes[m.b % map.nodes.length]!;
        if (a.end <= b.start && b.end <= der.length) {
          der = Buffer.concat([
            der.subarray(0, a.start),
            der.subarray(b.start, b.end),
            der.subarray(a.end, b.start),
            der.subarray(a.start, a.end),
            der.subarray(b.end),
          ]);
        }
        break;
      }
    }
  }
  return der;
}

describe('CSR parser under mutation', () => {
  it('accepts every seed as it is', () => {
    for (const der of seeds) expect(checkCsr(der, [], null)).toMatchObject({ ok: true });
  });

  it(`never throws for ${runs} mutated requests (seed ${seed})`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (index, mutations) => {
        const der = mutate(index, mutations);
        const result = checkCsr(der, ['fuzz.example.test'], { allowedKeyAlgorithms: [], allowedEkus: [], sanPatterns: [], maxTtlSeconds: 0 });
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: runs, seed },
    );
  });

  it('answers the probe’s crafted requests with a reason (regression)', () => {
    // Signed, well-formed DER whose only defect is the one the probe found.
    const ipOf = (bytes: number[]) => extensionRequest(sequence(oid('2.5.29.17'), octetString(sequence(tlv(0x87, Buffer.from(bytes))))));
    expect(checkCsr(signedCsr(ipOf([10, 0, 0])), [], null)).toMatchObject({ ok: false, reason: expect.stringMatching(/iPAddress.*3 bytes/) });
    expect(checkCsr(signedCsr(ipOf([10, 0, 0, 1, 2])), [], null)).toMatchObject({ ok: false, reason: expect.stringMatching(/5 bytes/) });
    expect(checkCsr(signedCsr(extensionRequest(sequence())), [], null)).toMatchObject({ ok: false, field: 'csr_pem' });
    expect(checkCsr(signedCsr(ipOf([10, 0, 0, 1])), [], null)).toMatchObject({ ok: true });
  });
});

/** One extension inside an extensionRequest attribute (RFC 2985 5.4.2). */
function extensionRequest(extension: Buffer): Buffer {
  return sequence(oid('1.2.840.113549.1.9.14'), set(sequence(extension)));
}

function signedCsr(attribute: Buffer): Buffer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = sequence(smallInteger(0), nameWithCommonName('crafted.example.test'), publicKey.export({ format: 'der', type: 'spki' }), context(0, attribute));
  const { algorithm, hash } = signatureAlgorithmFor(privateKey);
  return sequence(info, algorithm, bitString(sign(hash, info, privateKey)));
}
