#!/usr/bin/env bash
# Alternates Tiny.Bench and its torch peer (oneDNN shim) in the same time window, ROUNDS times, so both sides see the
# same load; every Tiny run prints the machine line (CPU model, FMA peak measured then). Output: JSON lines, each
# tagged with its round, on stdout. Usage: bench/peers/alternate.sh ROUNDS "td3 --passes 7" "td3_update.py --passes 7"
# Needs a Release build: dotnet build bench/Tiny.Bench -c Release. BASELINE=DIR/Tiny.Bench.dll (an older build, e.g.
# from a clone at an earlier commit) also runs that build first in every round; lines are then tagged "build":"old"
# or "new" (summarize_ab.py prints old/new and torch/new). PEER "-" skips the peer.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dll="$here/../Tiny.Bench/bin/Release/net10.0/Tiny.Bench.dll"
[ $# -eq 3 ] || { echo "usage: $0 ROUNDS 'TINY_ARGS' 'PEER.py ARGS'" >&2; exit 2; }
[ -f "$dll" ] || { echo "no $dll: run dotnet build bench/Tiny.Bench -c Release first" >&2; exit 2; }
[ -z "${BASELINE:-}" ] || [ -f "$BASELINE" ] || { echo "no $BASELINE (BASELINE must name a Tiny.Bench.dll)" >&2; exit 2; }
for round in $(seq 1 "$1"); do
    echo "# round $round $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    if [ -n "${BASELINE:-}" ]; then
        # shellcheck disable=SC2086
        dotnet "$BASELINE" $2 | sed "s/^{/{\"round\":$round,\"build\":\"old\",/"
        # shellcheck disable=SC2086
        dotnet "$dll" $2 | sed "s/^{/{\"round\":$round,\"build\":\"new\",/"
    else
        # shellcheck disable=SC2086
        dotnet "$dll" $2 | sed "s/^{/{\"round\":$round,/"
    fi
    if [ "$3" != "-" ]; then
        # shellcheck disable=SC2086
        SHIM_ONLY=1 "$here/run.sh" $3 | sed "s/^{/{\"round\": $round, /"
    fi
done
