/** The piscina worker entry: one named export per task (pool.run(input, { name })). */
export { default as issueCertificate } from './issue-certificate.task.ts';
