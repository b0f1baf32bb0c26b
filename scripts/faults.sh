#!/bin/sh
# npm run faults: the long fault suite (docs/operator/reliability.md). The same files run in
# `npm test` with a fixed seed and small counts; here the counts are large and the seed is new
# each run (printed, so a failure can be replayed with CERTFLEET_FUZZ_SEED=<seed>).
set -eu
: "${CERTFLEET_FUZZ_RUNS:=20000}"
: "${CERTFLEET_FUZZ_SEED:=$(date +%s)}"
: "${CERTFLEET_FAULT_SECONDS:=20}"
export CERTFLEET_FUZZ_RUNS CERTFLEET_FUZZ_SEED CERTFLEET_FAULT_SECONDS
echo "faults: CERTFLEET_FUZZ_RUNS=$CERTFLEET_FUZZ_RUNS CERTFLEET_FUZZ_SEED=$CERTFLEET_FUZZ_SEED CERTFLEET_FAULT_SECONDS=$CERTFLEET_FAULT_SECONDS"
exec npx vitest run --testTimeout 1800000 test/faults test/regressions src/pki/csr.fuzz.test.ts "$@"
