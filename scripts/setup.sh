#!/usr/bin/env bash
# Installs everything convkit's build and tests need on a fresh Debian machine, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

ensure_rustup_cargo
ensure_cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
ensure_cargo_tool wasm-pack wasm-pack "$WASM_PACK_VERSION"
select_wasm_toolchain
apt_install chromium   # headless browser tests (playwright-core drives it)
ensure_node_modules
bash scripts/build.sh
