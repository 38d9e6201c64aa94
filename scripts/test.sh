#!/usr/bin/env bash
# The whole test suite: the Rust core natively, then vitest (PyTorch fixtures on every backend and
# the pool, errors, the wasm binaries, and the packaged library in Node, Deno and Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

log "cargo test (convkit-core, native)"
cargo test --quiet -p convkit-core
log "vitest"
npx vitest run
