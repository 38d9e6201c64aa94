#!/usr/bin/env bash
# Regenerates the reference fixtures: PyTorch (python3-torch) for the ops, scipy.ndimage cross-checked
# with OpenCV (python3-scipy, python3-opencv) for the image filters. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh
apt_install python3-torch python3-torchvision python3-numpy python3-scipy python3-opencv
/usr/bin/python3 test/fixtures/generate.py
/usr/bin/python3 test/fixtures/generate_images.py
