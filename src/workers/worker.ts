/** The piscina worker's tasks: one named export each (pool.run(input, { name })). */
export { default as buildCrl } from './build-crl.task.ts';
export { default as issueCertificate } from './issue-certificate.task.ts';
export { default as readCertificates } from './read-certificates.task.ts';
export { default as verifyCsr } from './verify-csr.task.ts';
export { default as verifyJws } from './verify-jws.task.ts';
