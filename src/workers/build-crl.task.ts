/** Worker task: encode and sign a CRL (large revocation lists must not block the event loop). */
import { createPrivateKey } from 'node:crypto';
import { caTemplate } from '../pki/certificate.ts';
import { buildCrl, type RevocationReason } from '../pki/crl.ts';

export interface BuildCrlTask {
  ca: { keyPkcs8: Uint8Array; certificateDer: Uint8Array };
  crlNumber: number;
  thisUpdate: number;
  nextUpdate: number;
  serials: string[];
  revokedAt: number[];
  reasons: RevocationReason[];
}

export default function buildCrlTask(task: BuildCrlTask): Uint8Array {
  const ca = caTemplate({
    key: createPrivateKey({ key: Buffer.from(task.ca.keyPkcs8), format: 'der', type: 'pkcs8' }),
    certificateDer: Buffer.from(task.ca.certificateDer),
  });
  return buildCrl({
    ca,
    crlNumber: task.crlNumber,
    thisUpdate: new Date(task.thisUpdate),
    nextUpdate: new Date(task.nextUpdate),
    entries: task.serials.map((serial, i) => ({ serial, revokedAt: new Date(task.revokedAt[i]!), reason: task.reasons[i]! })),
  });
}
