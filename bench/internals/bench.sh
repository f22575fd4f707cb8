#!/usr/bin/env bash
# The internals bench of bench/internals.md: DQN on CartPole-v1 (500k steps, CleanRL's settings), Adam and AlphaGrad,
# each as (a) the build before the recorder existed, (b) this build without --internals, (c) this build with
# --internals (every=10); each round runs a, b, c back to back (odd rounds a b c, even rounds c b a, so a drifting
# load cancels), so a busy machine slows the three of a round alike. Prints one line per run:
# round optimizer config training-wall-seconds process-cpu-seconds.
# usage: bench/internals/bench.sh BEFORE_TINY_DLL AFTER_TINY_DLL OUT_DIR [ROUNDS]
set -euo pipefail
before=$1; after=$2; out=$3; rounds=${4:-3}
mkdir -p "$out"
TIMEFORMAT='%U %S'
for r in $(seq 1 "$rounds"); do
  for opt in adam alphagrad; do
    order="a b c"; [ $((r % 2)) = 0 ] && order="c b a"
    for cfg in $order; do
      dll=$after; extra=()
      [ "$cfg" = a ] && dll=$before
      [ "$cfg" = c ] && extra=(--internals every=10)
      dir="$out/$opt-$cfg-$r"
      rm -rf "$dir"
      { time dotnet "$dll" train dqn --env CartPole-v1 --optimizer "$opt" --seed 1 --out "$dir" "${extra[@]}" > "$dir.log" 2>&1; } 2> "$dir.time"
      wall=$(grep -o 'wall [0-9.]*s' "$dir.log" | head -1 | tr -d 'wals ')
      cpu=$(awk '{print $1 + $2}' "$dir.time")
      echo "$r $opt $cfg $wall $cpu"
    done
  done
done
