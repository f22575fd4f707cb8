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
    return timed_passes(fn, reps, passes)


def timed_passes(fn, reps, passes):
    """`passes` passes of reps calls; (best, median) per-call microseconds over passes (best = fastest pass)."""
    per = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        per.append((time.perf_counter() - t0) / reps * 1e6)
    return min(per), statistics.median(per)


def warm(fn, min_seconds=0.5, min_calls=60, max_seconds=4.0):
    """Warm-up by time, as Tiny.Bench's Harness.Warm: at least min_seconds and min_calls, then windows of ~0.1 s
    until two successive windows' mean times agree within 3%. Returns the last window's us per call."""
    t0 = time.perf_counter()
    calls = 0
    while calls < min_calls or time.perf_counter() - t0 < min_seconds:
        fn()
        calls += 1
        if time.perf_counter() - t0 > max_seconds:
            break
    prev = last = float("nan")
    while True:  # at least one window, so the caller learns the time per call
        w0 = time.perf_counter()
        n = 0
        while True:
            fn()
            n += 1
            if time.perf_counter() - w0 >= 0.1:
                break
        last = (time.perf_counter() - w0) / n * 1e6
        if abs(last - prev) <= 0.03 * min(last, prev) or time.perf_counter() - t0 >= max_seconds:
            break
        prev = last
    return last


def time_budget_us(fn, passes=5, pass_seconds=0.25, min_reps=3):
    """warm(fn), then `passes` passes of ~pass_seconds each; returns (best, median, reps) per-call microseconds,
    as Tiny.Bench's Harness.Time."""
    last = warm(fn)
    reps = max(min_reps, int(pass_seconds * 1e6 / max(last, 0.01)) + 1)
    best, median = timed_passes(fn, reps, passes)
    return best, median, reps


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
