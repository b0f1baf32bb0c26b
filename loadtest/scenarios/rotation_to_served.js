// rotation_to_served: the whole path from a bulk renewal to every daemon serving its new leaf.
// N NGINX targets on M hosts (an agent process and a real nginx each, on loopback); the driver
// times each target from the renewal until a TLS handshake gets the new leaf (loadtest/driver/rotation.ts).
// Not a request load: the Node driver runs it (`npm run loadtest -- rotation_to_served`), k6 cannot
// start agents. Goal (issue 18): every target served within one poll interval plus 5 s, no failed
// or retried deployment.
export default {
  name: 'rotation_to_served',
  kind: 'rotation',
  description: 'Bulk renewal -> agents poll, submit CSRs, deploy to nginx, reload, check -> every target serves its new leaf',
  targets: 200,
  agents: 4,
  pollSeconds: 10,
  slackSeconds: 5,
};
