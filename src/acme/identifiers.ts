/**
 * newOrder identifiers (RFC 8555 7.1.3, 7.4; RFC 8738): `dns` names and `ip` addresses, checked before anything is
 * written. Every rejected identifier is a subproblem naming it, so a client asking for ten names
 * learns about all the bad ones at once. Names are lowercased (DNS is case-insensitive, and the
 * CSR comparison at finalize is too); a wildcard is one leading `*.` label.
 */
import { isIP } from 'node:net';
import type { AcmeIdentifier } from '../domain/acme.ts';
import { AcmeProblem, type ProblemDocument } from './problems.ts';

/**
 * An IP address in the one text form it is compared and stored in (RFC 8738 3; RFC 5952 for
 * IPv6, as WHATWG URLs serialise it); undefined when `text` is not an IP address.
 */
export function canonicalIp(text: string): string | undefined {
  const version = isIP(text);
  if (version === 4) return text.split('.').map(Number).join('.');
  if (version === 6 && !text.includes('%')) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return undefined;
}

/** Boulder's limit; a certificate with more names is rarely what anyone wants. */
export const maxIdentifiers = 100;

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Why `name` (lowercased) is not an issuable DNS name; undefined when it is one. */
export function dnsNameProblem(name: string): string | undefined {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  if (name.length > 253) return 'is longer than 253 characters';
  if (bare.includes('*')) return 'may only have a wildcard as its whole first label ("*.")';
  if (bare.endsWith('.')) return 'must not end with a dot';
  const labels = bare.split('.');
  if (labels.length < 2) return 'must have at least two labels';
  if (labels.some((l) => !label.test(l))) return 'must be made of labels of 1-63 letters, digits and inner hyphens';
  if (labels.every((l) => /^\d+$/.test(l))) return 'looks like an IP address; certfleet issues for DNS names';
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'has a numeric top-level label';
  return undefined;
}

/** The identifiers to store: validated, lowercased, duplicates dropped, in the client's order. */
export function parseIdentifiers(value: unknown): AcmeIdentifier[] {
  if (!Array.isArray(value) || value.length === 0) throw new AcmeProblem('malformed', 400, 'identifiers must be a non-empty array');
  if (value.length > maxIdentifiers) throw new AcmeProblem('rejectedIdentifier', 400, `an order may name at most ${maxIdentifiers} identifiers`);
  const subproblems: ProblemDocument[] = [];
  const seen = new Set<string>();
  const identifiers: AcmeIdentifier[] = [];
  for (const item of value) {
    const type = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).type : undefined;
    const raw = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).value : undefined;
    const shown = { type: typeof type === 'string' ? type.slice(0, 16) : '', value: typeof raw === 'string' ? raw.slice(0, 253) : '' };
    if (type === 'ip') {
      const ip = typeof raw === 'string' ? canonicalIp(raw) : undefined;
      if (!ip) {
        subproblems.push({
          type: 'urn:ietf:params:acme:error:rejectedIdentifier',
          detail: `${JSON.stringify(shown.value)} is not an IP address`,
          status: 400,
          identifier: shown,
        });
        continue;
      }
      if (!seen.has(`ip:${ip}`)) identifiers.push({ type: 'ip', value: ip });
      seen.add(`ip:${ip}`);
      continue;
    }
    if (type !== 'dns') {
      subproblems.push({
        type: 'urn:ietf:params:acme:error:unsupportedIdentifier',
        detail: `identifier type ${JSON.stringify(shown.type)} is not supported (only "dns" and "ip")`,
        status: 400,
        identifier: shown,
      });
      continue;
    }
    const name = typeof raw === 'string' ? raw.toLowerCase() : '';
    const problem = name === '' ? 'must be a non-empty string' : dnsNameProblem(name);
    if (problem) {
      subproblems.push({
        type: 'urn:ietf:params:acme:error:rejectedIdentifier',
        detail: `${JSON.stringify(shown.value)} ${problem}`,
        status: 400,
        identifier: shown,
      });
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    identifiers.push({ type: 'dns', value: name });
  }
  if (subproblems.length > 0) {
    // Boulder's shape: one top-level type, every rejected identifier as a subproblem naming it.
    const allUnsupported = subproblems.every((p) => p.type.endsWith(':unsupportedIdentifier'));
    const detail = subproblems.length === 1 ? subproblems[0]!.detail : `${subproblems.length} identifiers were rejected (see subproblems)`;
    throw new AcmeProblem(allUnsupported ? 'unsupportedIdentifier' : 'rejectedIdentifier', 400, detail, { subproblems });
  }
  return identifiers;
}
