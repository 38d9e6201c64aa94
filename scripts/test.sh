#!/usr/bin/env bash
# The whole test suite: the Rust core natively, then vitest (PyTorch fixtures on every backend and
# the pool, errors, peer vectors, the wasm binaries, and the packaged library in Node, Deno and
# Chromium). Ends with one plain "N passed, N failed" line for the whole vitest run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

# The property tests use fixed seeds here, so a CI run is reproducible; `npm run test:nightly` (or
# unsetting these) explores fresh random cases.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261122}"
export CONVKIT_PROPERTY_SEED="${CONVKIT_PROPERTY_SEED:-20261122}"
log "cargo test (convkit-core, native)"
cargo test --quiet -p convkit-core
log "vitest"
mkdir -p test/.scratch
status=0
npx vitest run --reporter=default --reporter=json --outputFile=test/.scratch/vitest.json || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("test/.scratch/vitest.json", "utf8"));
  console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
'
exit $status
