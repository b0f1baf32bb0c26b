/** The piscina worker's tasks: one named export each (pool.run(input, { name })). */
import { announceWorkerLoaded } from './worker-loaded.ts';

export { default as buildCrl } from './build-crl.task.ts';
export { default as issueCertificate } from './issue-certificate.task.ts';
export { default as readCertificates } from './read-certificates.task.ts';
export { default as verifyCsr } from './verify-csr.task.ts';
export { default as verifyJws } from './verify-jws.task.ts';

// Evaluated last (after the task modules above): the thread is ready and may be terminated.
announceWorkerLoaded();
