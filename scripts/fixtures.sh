#!/usr/bin/env bash
# Regenerates the PyTorch reference fixtures (needs Debian's python3-torch; installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
apt_install python3-torch python3-torchvision python3-numpy
/usr/bin/python3 test/fixtures/generate.py
