#!/usr/bin/python3
"""Writes tanh_golden.json: torch.tanh's exact bits on chosen float32 and float64 inputs (CPU, torch 1.13,
whose tanh is SLEEF's u10 tanh) for Tiny's TorchTanh tests. Schema: README.md next to this file.

Run with Debian's torch 1.13:  /usr/bin/python3 tests/Tiny.Tests/data/gen_tanh_golden.py [--out DIR]
Deterministic (fixed numpy seed): re-running gives a byte-identical file.

Offline checks (not in CI):
  --digests        also writes tanh_exhaustive_f32.sha256: for each of the 256 blocks of 2^24 consecutive
                   float32 bit patterns (block b = patterns b*2^24 .. b*2^24+2^24-1, as uint32), the SHA-256 of
                   torch.tanh's outputs (little-endian float32). About 2 minutes.
  --f64-samples N FILE   writes N random float64 inputs and torch.tanh's outputs to FILE (raw little-endian:
                   N inputs, then N outputs) for the explicit float64 sample test (TINY_TANH_F64_SAMPLES=FILE).
"""

import argparse
import hashlib
import json
import math
import os

import numpy as np
import torch

torch.set_num_threads(1)


def f32_bits(values):
    return np.asarray(values, dtype=np.float32).view(np.uint32)


def torch_tanh_bits(bits, dtype):
    npdt, idt = (np.float32, np.uint32) if dtype == torch.float32 else (np.float64, np.uint64)
    x = torch.from_numpy(np.asarray(bits, dtype=idt).view(npdt).copy())
    return torch.tanh(x).numpy().view(idt)


def neighbours(center_bits, k, width):
    """bit patterns center-k .. center+k of positive values (ulp neighbours)."""
    return [int(center_bits) + d for d in range(-k, k + 1) if 0 <= int(center_bits) + d < (1 << width)]


def inputs_f32(rng):
    b = set()
    specials = [0x00000000, 0x00000001, 0x00000002, 0x007FFFFF, 0x00800000, 0x00800001, 0x7F7FFFFF, 0x7F800000,
                0x7FC00000, 0x7F800001, 0x7FFFFFFF, 0x3F800000, 0x33800000, 0x39800000, 0x3A000000]
    b.update(specials)
    b.update(neighbours(f32_bits(8.664339742)[()], 16, 32))          # where tanh becomes 1 by the branch
    for k in range(0, 15):                                           # where the range reduction's q steps
        b.update(neighbours(f32_bits((k + 0.5) * math.log(2))[()], 4, 32))
    for e in range(-149, 5):                                          # powers of two and neighbours
        b.update(neighbours(f32_bits(2.0 ** e)[()], 1, 32))
    b.update(f32_bits(np.exp(rng.uniform(math.log(1e-8), math.log(9.0), 1200))).tolist())
    b.update(f32_bits(rng.uniform(0, 3, 400)).tolist())
    b.update(f32_bits(rng.uniform(3, 9, 200)).tolist())
    b.update(rng.integers(0, 1 << 31, 150).tolist())                 # any pattern (NaN payloads included)
    # inputs where torch's result is not the correctly rounded tanh (by float64 math.tanh): the ones where
    # implementations of tanh differ
    cand = f32_bits(np.exp(rng.uniform(math.log(1e-4), math.log(9.0), 400000)))
    t = torch_tanh_bits(cand, torch.float32)
    ref = np.tanh(cand.view(np.float32).astype(np.float64)).astype(np.float32).view(np.uint32)
    b.update(cand[t != ref][:600].tolist())
    pos = sorted(b)
    return pos + [p | 0x80000000 for p in pos if p % 3 == 0]          # a third of them negated too


def f64_bits(values):
    return np.asarray(values, dtype=np.float64).view(np.uint64)


def inputs_f64(rng):
    b = set()
    specials = [0, 1, 2, 0x000FFFFFFFFFFFFF, 0x0010000000000000, 0x0010000000000001, 0x7FEFFFFFFFFFFFFF,
                0x7FF0000000000000, 0x7FF8000000000000, 0x7FF0000000000001, 0x7FFFFFFFFFFFFFFF, 0x3FF0000000000000,
                0x3E40000000000000, 0x3CA0000000000000]
    b.update(specials)
    b.update(neighbours(f64_bits(18.714973875)[()], 16, 64))
    for k in range(0, 28):
        b.update(neighbours(f64_bits((k + 0.5) * math.log(2))[()], 3, 64))
    for e in range(-1074, 6, 3):
        b.update(neighbours(f64_bits(2.0 ** e)[()], 1, 64))
    b.update(f64_bits(np.exp(rng.uniform(math.log(1e-12), math.log(19.0), 1200))).tolist())
    b.update(f64_bits(rng.uniform(0, 3, 400)).tolist())
    b.update(f64_bits(rng.uniform(3, 19, 200)).tolist())
    b.update((rng.integers(0, 1 << 63, 150, dtype=np.uint64)).tolist())
    cand = f64_bits(np.exp(rng.uniform(math.log(1e-4), math.log(19.0), 400000)))
    t = torch_tanh_bits(cand, torch.float64)
    ref = np.tanh(cand.view(np.float64)).view(np.uint64)             # libm's: differs where one of them is off
    b.update(cand[t != ref][:600].tolist())
    pos = sorted(int(v) for v in b)
    return pos + [p | (1 << 63) for p in pos if p % 3 == 0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--digests", action="store_true")
    ap.add_argument("--f64-samples", nargs=2, metavar=("N", "FILE"))
    args = ap.parse_args()
    rng = np.random.default_rng(1234)

    x32 = inputs_f32(rng)
    y32 = torch_tanh_bits(x32, torch.float32)
    x64 = inputs_f64(rng)
    y64 = torch_tanh_bits(x64, torch.float64)
    doc = {
        "source": f"torch {torch.__version__} CPU torch.tanh (contiguous tensor; SLEEF u10 tanh)",
        "float32": {"x": [f"{int(v):08x}" for v in x32], "y": [f"{int(v):08x}" for v in y32]},
        "float64": {"x": [f"{int(v):016x}" for v in x64], "y": [f"{int(v):016x}" for v in y64]},
    }
    with open(os.path.join(args.out, "tanh_golden.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"tanh_golden.json: {len(x32)} float32, {len(x64)} float64 inputs")

    if args.digests:
        lines = []
        for blk in range(256):
            lo = blk << 24
            bits = np.arange(lo, lo + (1 << 24), dtype=np.uint64).astype(np.uint32)
            y = torch.tanh(torch.from_numpy(bits.view(np.float32)))
            lines.append(f"{blk:02x} {hashlib.sha256(y.numpy().tobytes()).hexdigest()}")
        with open(os.path.join(args.out, "tanh_exhaustive_f32.sha256"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print("tanh_exhaustive_f32.sha256: 256 blocks")

    if args.f64_samples:
        n, path = int(args.f64_samples[0]), args.f64_samples[1]
        srng = np.random.default_rng(99)
        x = np.concatenate([srng.uniform(-20, 20, n // 2),
                            np.exp(srng.uniform(math.log(1e-300), math.log(20), n - n // 2)) * srng.choice([-1, 1], n - n // 2)])
        y = torch.tanh(torch.from_numpy(x)).numpy()
        with open(path, "wb") as f:
            f.write(x.astype("<f8").tobytes())
            f.write(y.astype("<f8").tobytes())
        print(f"{path}: {n} float64 samples")


if __name__ == "__main__":
    main()
