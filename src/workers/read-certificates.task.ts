/**
 * Worker task: parse a discovery report's certificates. A report holds up to 1,000 PEMs and
 * OpenSSL parsing costs tens of microseconds each, so a whole report would hold the event loop
 * for tens of milliseconds; here it costs the main thread one task round trip.
 */
import { certificateInfo, pemCertificateDer, type CertificateInfo } from '../pki/certificate-info.ts';

export type ReadCertificatesResult = Array<{ ok: true; info: CertificateInfo } | { ok: false; reason: string }>;

export default function readCertificatesTask(pems: string[]): ReadCertificatesResult {
  return pems.map((pem) => {
    try {
      return { ok: true, info: certificateInfo(pemCertificateDer(pem)) };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  });
}
