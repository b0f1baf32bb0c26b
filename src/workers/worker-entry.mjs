// piscina loads this plain-JS entry in each worker thread. It registers tsx in the worker
// itself (loader hooks registered in the main thread do not reach workers) and re-exports the
// TypeScript tasks, so workers run the same sources as the server with no build step.
import { register } from 'tsx/esm/api';

register();
const tasks = await import('./worker.ts');

export const issueCertificate = tasks.issueCertificate;
export const buildCrl = tasks.buildCrl;
export const readCertificates = tasks.readCertificates;
export const verifyCsr = tasks.verifyCsr;
export const verifyJws = tasks.verifyJws;
