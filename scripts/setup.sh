#!/usr/bin/env bash
# setup.sh: installs the Debian packages rlc needs (only those missing),
# builds it into build/, and runs the default job.
#   bash scripts/setup.sh            install, build, run the default job
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

DATA="${RLC_DATA:-../shared/data}"
echo
echo "setup: default job: greedy generation from stories260K ($DATA/models/stories260K)"
./build/rlc generate --model "$DATA/models/stories260K/stories260K.bin" --temperature 0 -n 256
