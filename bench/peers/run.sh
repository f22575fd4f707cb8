#!/usr/bin/env bash
# Runs a PyTorch peer twice: with the oneDNN sgemm shim preloaded (the fair stand-in for pip PyTorch) and as
# installed (Debian's netlib reference BLAS). Usage: bench/peers/run.sh train_step.py [peer args...]
#   SHIM_ONLY=1 / PLAIN_ONLY=1 run just one of the two; PYTHON overrides /usr/bin/python3.
#   glibc malloc is pinned (no heap trimming, fixed 32 MB mmap threshold) so torch's per-step temporaries stay
#   mapped instead of being page-faulted in again every step; RAW_MALLOC=1 keeps glibc's defaults.
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
if [ -z "${RAW_MALLOC:-}" ]; then
    export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-10000000000}"
    export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
fi
if [ -z "${PLAIN_ONLY:-}" ]; then
    echo "# with oneDNN shim" >&2
    LD_PRELOAD="$shim" "$py" "$peer" "$@"
fi
if [ -z "${SHIM_ONLY:-}" ]; then
    echo "# as installed (reference BLAS)" >&2
    "$py" "$peer" "$@"
fi
