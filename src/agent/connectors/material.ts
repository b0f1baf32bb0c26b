/**
 * The deployable pieces of an issued certificate: the leaf and its chain apart, the key this
 * host generated for it, and the facts the post-deploy check needs (the leaf's DER, serial and
 * a host name to send as SNI). Refuses a chain whose leaf is not for the key held here.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import type { DeploymentMaterial } from './plans.ts';
import { normalSerial } from './served-leaf.ts';

export function deploymentMaterial(chainPem: string, keyPem: string, certificateId: string): DeploymentMaterial {
  const [leafPem = '', ...rest] = chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
  const leaf = new X509Certificate(leafPem);
  if (!leaf.publicKey.export({ format: 'der', type: 'spki' }).equals(createPublicKey(createPrivateKey(keyPem)).export({ format: 'der', type: 'spki' }))) {
    throw new Error(`certificate ${certificateId} does not match the private key on this host`);
  }
  const dnsNames = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return {
    leafPem,
    chainPem: rest.join(''),
    keyPem,
    leafDer: leaf.raw,
    serial: normalSerial(leaf.serialNumber),
    serverName: dnsNames.find((n) => !n.startsWith('*')),
  };
}
