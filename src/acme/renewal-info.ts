/**
 * ACME Renewal Information (RFC 9773): the certificate id clients send, and the window in which
 * the server suggests they renew.
 *
 * A certificate id is base64url(AuthorityKeyIdentifier keyIdentifier) "." base64url(serial DER
 * content). Serials are compared as integers (canonical lowercase hex, no leading zeros), so the
 * leading 0x00 that DER adds to a serial whose first bit is set (certbot, lego) is harmless.
 */
import type { AcmeIssuedVersion } from '../domain/acme.ts';
import { AcmeProblems } from './problems.ts';

const part = /^[A-Za-z0-9_-]+$/;
const dayMs = 86_400_000;

/** The canonical serial (lowercase hex, no leading zeros) an ARI certificate id names. */
export function parseRenewalCertId(value: unknown): string {
  const text = typeof value === 'string' ? value : '';
  const [aki, serial, ...rest] = text.split('.');
  if (!aki || !serial || rest.length > 0 || !part.test(aki) || !part.test(serial) || text.length > 512) {
    throw AcmeProblems.malformed('a certificate id is base64url(authority key identifier) "." base64url(serial number) (RFC 9773 4.1)');
  }
  const bytes = Buffer.from(serial, 'base64url');
  const hex = bytes.toString('hex').replace(/^0+(?=.)/, '');
  if (bytes.length === 0 || hex === '0') throw AcmeProblems.malformed('the serial number of a certificate id must be positive');
  return hex;
}

export interface RenewalWindow {
  start: Date;
  end: Date;
}

/**
 * When to renew: inside the renewal policy's window (the days before expiry the inventory
 * renews its own certificates), capped at a third of the lifetime for short-lived
 * certificates; the second half of that window is left as slack. A revoked certificate, one
 * an operator asked to renew, or one already past its window, should be renewed now: an
 * operator rotates a fleet's ACME certificates without touching a host.
 */
export function renewalWindow(version: AcmeIssuedVersion, now: number = Date.now()): RenewalWindow {
  // Revoked, or an operator asked for a renewal (REST renew, bulk-renew): renew at the next check.
  if (version.revoked || version.certificate_status === 'Revoked' || version.renewal_requested) return { start: new Date(now - 3_600_000), end: new Date(now) };
  const notAfter = version.not_after.getTime();
  const lifetime = Math.max(notAfter - version.not_before.getTime(), 0);
  const windowMs = Math.min(version.renewal_window_days * dayMs, lifetime / 3);
  const start = notAfter - windowMs;
  const end = start + windowMs / 2;
  if (end <= now) return { start: new Date(now - 3_600_000), end: new Date(now) };
  return { start: new Date(start), end: new Date(end) };
}
