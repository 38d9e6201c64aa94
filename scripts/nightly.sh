#!/usr/bin/env bash
# The long run of the property tests (CI runs a few hundred cases per property; this runs tens of
# thousands): `npm run test:nightly`. Override the counts with CONVKIT_PROPERTY_RUNS / PROPTEST_CASES.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/toolchain.sh
# Debug build: overflow checks on (a release build would wrap silently, as wasm32 would).
PROPTEST_CASES="${PROPTEST_CASES:-50000}" cargo test -p convkit-core --test properties
CONVKIT_PROPERTY_RUNS="${CONVKIT_PROPERTY_RUNS:-20000}" npx vitest run test/properties.test.ts --testTimeout=0
