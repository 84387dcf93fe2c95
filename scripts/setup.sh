#!/usr/bin/env bash
# setup.sh: installs the Debian packages rlc needs (only those missing),
# builds it into build/, and runs the default experiment (scripts/arith.sh).
#   bash scripts/setup.sh            install, build, run the default experiment
#   bash scripts/setup.sh --build    install and build only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake pkg-config libopenblas-dev libopenblas-openmp-dev libzmq3-dev libmsgpack-dev liblua5.4-dev
          libpcre2-dev libutf8proc-dev libjansson-dev"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

# nvcc may live outside PATH on a CUDA toolkit install.
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${RLC_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)"

[ "${1:-}" = "--build" ] && exit 0

echo
echo "setup: default job: the arithmetic experiment (docs/arith.md): a small model from scratch,"
echo "setup: SFT warm start, then GRPO; about 8-10 minutes on 2 cores"
bash scripts/arith.sh
