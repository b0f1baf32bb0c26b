// haproxy_handshake: new TLS connections at a constant arrival rate to a real haproxy (Debian's) on
// loopback serving a certfleet-issued P-256 chain, deployed by the agent's haproxy connector; each an
// HTTPS GET on a fresh connection (no reuse, no resumption). The connector tier's baseline: what a
// renewed site answers (docs/connectors.md). Read by loadtest/k6/haproxy_handshake.js and the Node
// driver (loadtest/driver/handshake.ts). Thresholds at least certctl's (p99 < 3 s).
export default {
  name: 'haproxy_handshake',
  kind: 'handshake',
  daemon: 'haproxy',
  description: 'New TLS connection + GET / to haproxy serving a certfleet-issued P-256 chain, constant arrival rate',
  executor: 'constant-arrival-rate',
  rate: 200,
  duration: '20s',
  connections: 64,
  thresholds: {
    handshake_failed: ['rate==0'],
    handshake_duration: ['p(95)<50', 'p(99)<100'],
  },
};
