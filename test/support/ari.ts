/** RFC 9773 certificate ids, made with openssl (the oracle) from a PEM certificate. */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';

/** base64url(AKI keyIdentifier) "." base64url(serial as DER encodes it: a leading 00 when its top bit is set, as certbot sends). */
export function ariCertId(leafPem: string): string {
  const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'authorityKeyIdentifier'], { input: leafPem }).toString();
  const hex = /(?:keyid:)?([0-9A-F]{2}(?::[0-9A-F]{2}){7,})/.exec(text)?.[1];
  if (!hex) throw new Error(`no authority key identifier in:\n${text}`);
  const serialHex = new X509Certificate(leafPem).serialNumber;
  let serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  if (serial[0]! & 0x80) serial = Buffer.concat([Buffer.from([0]), serial]);
  return `${Buffer.from(hex.replace(/:/g, ''), 'hex').toString('base64url')}.${serial.toString('base64url')}`;
}
