#!/usr/bin/env bash
# Builds the three wasm binaries (relaxed SIMD, SIMD128, scalar) with wasm-pack, then bundles the
# TypeScript with esbuild and emits its type declarations. Expects the tools from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
select_wasm_toolchain

build_wasm() { # name, extra rustflags
  log "building wasm ($1)"
  # --mode force: wasm-pack's own target check only knows rustup; the toolchain is chosen above.
  env "${WASM_ENV[@]}" RUSTFLAGS="$2 $WASM_LINKER_FLAGS" CARGO_TARGET_DIR="$PWD/target/wasm-$1" \
    wasm-pack --log-level warn build crates/convkit-wasm --mode force --target web --release --no-pack \
    --out-dir "../../build/wasm/$1" -- "${WASM_CARGO_ARGS[@]}"
}
build_wasm relaxed "-C target-feature=+simd128,+relaxed-simd"
build_wasm simd "-C target-feature=+simd128"
build_wasm scalar ""

log "bundling TypeScript"
node scripts/bundle.mjs
npx tsc -p tsconfig.json
