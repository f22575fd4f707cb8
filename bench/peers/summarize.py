#!/usr/bin/python3
"""Summarizes alternate.sh output (JSON lines of Tiny.Bench and a torch peer) as a Markdown table of ratios.

For each figure (bench, threads, net), takes the best and the median over all rounds' best passes of each side and
prints torch / Tiny of the bests and of the medians (> 1: Tiny faster), plus the machine lines (CPU, FMA peak per round). Usage:
bench/peers/summarize.py FILE.jsonl [FILE.jsonl ...]
"""

import json
import statistics
import sys
from collections import defaultdict


def main():
    if len(sys.argv) < 2:
        print("usage: summarize.py FILE.jsonl [...]", file=sys.stderr)
        return 2
    rows = []
    for path in sys.argv[1:]:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.startswith("{")]
    machines = [r for r in rows if r["bench"] == "machine"]
    if machines:
        p1 = [m["fma_peak_gflops_1t"] for m in machines]
        pa = [m["fma_peak_gflops_all"] for m in machines]
        print(f"CPU: {machines[0]['cpu']}, {machines[0]['cores']} cores, {machines[0]['isa']}; FMA peak measured in each "
              f"Tiny run: 1 thread {min(p1):.1f}-{max(p1):.1f} GFLOP/s, all cores {min(pa):.1f}-{max(pa):.1f} "
              f"({len(machines)} runs, {min(m['utc'] for m in machines)} .. {max(m['utc'] for m in machines)})\n")
    groups = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["bench"] == "machine":
            continue
        best = r.get("us_per_update_best", r.get("us_best"))
        key = (r["bench"], r.get("net", r.get("nets")), r["threads"], r.get("mode", ""))
        groups[key][r["peer"]].append((best, r))
        if "us_critic_step_best" in r:   # td3: the critic step alone as well (more calls per pass, less noise)
            groups[("td3_critic_step",) + key[1:]][r["peer"]].append((r["us_critic_step_best"], {}))
    print("| bench | net | threads | torch mode | Tiny us (best / median of rounds) | torch us (best / median) | torch / Tiny (best) | torch / Tiny (median) | Tiny % of peak (best) |")
    print("|---|---|---|---|---|---|---|---|---|")
    tiny_by_key = {}
    for key, sides in groups.items():
        if "tiny" in sides:
            tiny_by_key[key[:3]] = sides["tiny"]
    for key, sides in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2], kv[0][3])):
        if "torch" not in sides:
            continue
        tiny = tiny_by_key.get(key[:3], [])
        torch = sides["torch"]
        tb = min(b for b, _ in tiny) if tiny else float("nan")
        tm = statistics.median(b for b, _ in tiny) if tiny else float("nan")
        pb = min(b for b, _ in torch)
        pm = statistics.median(b for b, _ in torch)
        pct = max((r.get("pct_of_peak", float("nan")) for _, r in tiny), default=float("nan"))
        pct_s = "" if pct != pct else f"{pct:.0f}%"
        print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3] or '-'} | {tb:,.1f} / {tm:,.1f} | {pb:,.1f} / {pm:,.1f} | {pb / tb:.2f}x | {pm / tm:.2f}x | {pct_s} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
