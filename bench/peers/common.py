"""Shared helpers of the PyTorch peers: timing, JSON output, thread and shim detection."""

import ctypes
import json
import statistics
import sys
import time

import torch


def shim_active():
    """True when LD_PRELOAD put the oneDNN sgemm shim (../shared/bench/dnnl_sgemm_shim.c) in this process."""
    try:
        return bool(ctypes.CDLL(None).dnnl_sgemm_shim_active())
    except (AttributeError, OSError):
        return False


def setup(threads):
    torch.set_num_threads(threads)
    return {"peer": "torch", "torch": torch.__version__, "threads": threads, "shim": shim_active()}


def time_us(fn, reps, warmup=None, passes=5):
    """Runs fn warmup times, then `passes` passes of reps calls; returns (best, median) of per-call
    microseconds over passes (best = fastest pass)."""
    for _ in range(warmup if warmup is not None else max(3, reps // 10)):
        fn()
    per = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        per.append((time.perf_counter() - t0) / reps * 1e6)
    return min(per), statistics.median(per)


def make_net(sizes, act):
    """The MLP sizes[0]-...-sizes[-1] with act between Linear layers, as Tiny's Mlp.Create builds it."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def emit(meta, **fields):
    row = {"bench": fields.pop("bench"), **meta, **fields}
    print(json.dumps(row), flush=True)
    return row


def log(*a):
    print(*a, file=sys.stderr, flush=True)
