// issuance: bring-your-own-CSR signing, POST /api/v1/certificates/{id}/csr against seeded
// certificates (verify the CSR and sign in the worker pool, store the version, activate, audit).
// Read by loadtest/k6/issuance.js and the Node driver. Plain JavaScript, no imports.
// One fixed P-256 CSR (its names do not matter: they come from the managed certificate), so k6
// needs no key generation. Every request issues a new certificate (a new serial).
const csrPem =
  '-----BEGIN CERTIFICATE REQUEST-----\nMIHVMHwCAQAwGjEYMBYGA1UEAwwPbG9hZC5mbGVldC50ZXN0MFkwEwYHKoZIzj0C\nAQYIKoZIzj0DAQcDQgAEVAAK8NFZeyOp2VJutI/EGZB4M+jV1M88qY2GQQ9lah1p\n946j9rcHcOjfHRmC8bdxFR9RrV7NbBITLA1w80f66qAAMAoGCCqGSM49BAMCA0kA\nMEYCIQDVh0ItRw2QTdKk0ccOWlJMPBVzs5yv0VW7+dkAv0VmmgIhANnoV4dJQRDR\nkimuCAiB/DguHO9ym7wLwK3tWsXsu4iJ\n-----END CERTIFICATE REQUEST-----\n';

export default {
  name: 'issuance',
  description: 'POST /api/v1/certificates/{id}/csr: CSR verification and signing in the worker pool, version stored, certificate activated (admin key)',
  executor: 'constant-arrival-rate',
  rate: 1000,
  duration: '60s',
  warmup: '5s',
  connections: 64,
  thresholds: {
    http_req_failed: ['rate==0'],
    http_req_duration: ['p(95)<50', 'p(99)<100'],
  },
  seed: { certificates: 10000 },
  request(i, ctx) {
    const n = (i % ctx.seed.certificates) + 1;
    return {
      method: 'POST',
      path: `/api/v1/certificates/load-cert-${String(n).padStart(7, '0')}/csr`,
      headers: { Authorization: `Bearer ${ctx.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ csr_pem: csrPem }),
      expect: 201,
    };
  },
};
