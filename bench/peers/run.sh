#!/usr/bin/env bash
# Runs a PyTorch peer twice: with the oneDNN sgemm shim preloaded (the fair stand-in for pip PyTorch) and as
# installed (Debian's netlib reference BLAS). Usage: bench/peers/run.sh train_step.py [peer args...]
#   SHIM_ONLY=1 / PLAIN_ONLY=1 run just one of the two; PYTHON overrides /usr/bin/python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="$repo/../shared/bench/dnnl_sgemm_shim.c"
[ -f "$src" ] || src=/work/shared/bench/dnnl_sgemm_shim.c
shim=/tmp/libdnnl_sgemm_shim.so
py="${PYTHON:-/usr/bin/python3}"
[ $# -ge 1 ] || { echo "usage: $0 PEER.py [args...]" >&2; exit 2; }
peer="$1"; shift
[ -f "$peer" ] || peer="$here/$peer"
if [ ! -f "$shim" ] || [ "$src" -nt "$shim" ]; then
    gcc -O2 -shared -fPIC -o "$shim" "$src" -l:libdnnl.so.2
fi
cd "$here"
if [ -z "${PLAIN_ONLY:-}" ]; then
    echo "# with oneDNN shim" >&2
    LD_PRELOAD="$shim" "$py" "$peer" "$@"
fi
if [ -z "${SHIM_ONLY:-}" ]; then
    echo "# as installed (reference BLAS)" >&2
    "$py" "$peer" "$@"
fi
