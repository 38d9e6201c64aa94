# Sourced by the build scripts: makes sure every tool the build needs is installed, installing what
# is missing. Safe to run again: each step is skipped when its tool is already there.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate version in crates/convkit-wasm
WASM_PACK_VERSION=0.15.1
export PATH="$HOME/.cargo/bin:$PATH"

log() { echo "[convkit setup] $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rustup_cargo() {
  command -v cargo >/dev/null && return 0
  log "no cargo found: installing Debian's cargo"
  apt_install cargo
}

# Decides how wasm32 is built: rustup's target when present, else Debian's rustc-web with build-std.
# Sets WASM_ENV (env assignments) and WASM_CARGO_ARGS (extra cargo args).
select_wasm_toolchain() {
  if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    WASM_ENV=()
    WASM_CARGO_ARGS=()
    WASM_LINKER_FLAGS=""
  else
    apt_install rustc-web cargo-web rust-web-src lld-19
    # Debian's rustc 1.96 first on PATH; build std for wasm32 from its shipped sources.
    WASM_ENV=(PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1)
    WASM_CARGO_ARGS=(-Z build-std=std,panic_abort)
    WASM_LINKER_FLAGS="-C linker=wasm-ld-19"
  fi
}

ensure_cargo_tool() { # binary, crate, version
  if command -v "$1" >/dev/null && "$1" --version 2>/dev/null | grep -q " $3"; then return 0; fi
  log "installing $2 $3 (cargo install, once per machine)"
  cargo install "$2" --version "$3" --quiet
}

ensure_node_modules() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages"
    # Not `npm ci`: npm 11 leaves deno's foreign-platform optional packages out of the lock file and
    # then refuses it; `npm install` installs the same locked versions.
    npm install --no-audit --no-fund --loglevel=error
  fi
}
