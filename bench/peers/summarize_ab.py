#!/usr/bin/python3
"""Summarizes BASELINE=... alternate.sh output (an older Tiny build, the current one and the torch peer, alternating)
as a Markdown table: for each figure the best and the median over rounds of each side's best pass, then old / new and
torch / new of the bests and of the medians (> 1: the current build faster). Tiny's train_step figures are its scoped
steps (as README's); torch's forward1 figure per round is the faster of no_grad and inference_mode.
Usage: bench/peers/summarize_ab.py FILE.jsonl [FILE.jsonl ...]
"""

import json
import statistics
import sys
from collections import defaultdict


def key_of(r, side):
    b = r.get("bench")
    if b == "optim":
        return ("optim", r["optimizer"], r["n"])
    if b == "optim_step":
        return ("optim", r["optimizer"].rstrip("_"), r["params"])
    if b == "train_step":
        if side != "torch" and not r.get("scope"):
            return None
        return ("train", r["net"], f"b{r['batch']}", r["update"])
    if b == "forward1":
        return ("forward1", r["net"])
    if b == "gemm":
        return ("gemm", r.get("name", f"{r['m']}x{r['k']}x{r['n']}"), f"{r['threads']}T")
    if b == "td3_update":
        return ("td3_update", f"{r['threads']}T")
    return None


def main():
    if len(sys.argv) < 2:
        print("usage: summarize_ab.py FILE.jsonl [...]", file=sys.stderr)
        return 2
    best = defaultdict(dict)   # (key, side) -> round -> best us
    for path in sys.argv[1:]:
        with open(path) as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                r = json.loads(line)
                side = r.get("build", "tiny") if r.get("impl") == "tiny" or r.get("peer") == "tiny" else "torch"
                key = key_of(r, side)
                if key is None:
                    continue
                rounds, rnd = best[(key, side)], (path, r.get("round"))
                rounds[rnd] = min(rounds.get(rnd, float("inf")), r["us_best"] if "us_best" in r else r["us_per_update_best"])
    keys = sorted({k for k, _ in best}, key=str)

    def stats(k, side):
        v = list(best.get((k, side), {}).values())
        return (min(v), statistics.median(v)) if v else None

    fmt = lambda s: f"{s[0]:,.1f} / {s[1]:,.1f}" if s else "-"
    ratio = lambda a, b: f"{a[0] / b[0]:.2f} / {a[1] / b[1]:.2f}" if a and b else "-"
    print("| figure | old us (best / median) | new us (best / median) | torch us (best / median) | old / new (best / median) | torch / new (best / median) |")
    print("|---|---|---|---|---|---|")
    for k in keys:
        o, n, t = stats(k, "old"), stats(k, "new"), stats(k, "torch")
        print(f"| {' '.join(map(str, k))} | {fmt(o)} | {fmt(n)} | {fmt(t)} | {ratio(o, n)} | {ratio(t, n)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
