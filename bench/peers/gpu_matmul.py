#!/usr/bin/python3
"""PyTorch CUDA peer of `Tiny.Bench gpu`: float32 matmul GFLOP/s at n = 1024..8192 and MLP training steps
(zero_grad, forward, MSE, backward, Adam) at batch 64..4096 on the same two nets, timed with CUDA events after
a synchronize. TF32 is off by default so both sides do IEEE float32 FMAs (`--tf32` to see the tensor-core figure).
One JSON line per figure: {"bench": "gpu_gemm"|"gpu_train_step", "peer": "torch", ...}. Exits 2 without CUDA.
"""

import argparse
import json
import sys

import torch

from common import make_net

SIZES = [1024, 2048, 4096, 8192]
BATCHES = [64, 256, 1024, 4096]
NETS = {"4-64-64-2-tanh": ([4, 64, 64, 2], torch.nn.Tanh), "256-1024-1024-10-relu": ([256, 1024, 1024, 10], torch.nn.ReLU)}


def timed(work, min_reps=3, seconds=1.0):
    work()
    torch.cuda.synchronize()
    samples, total = [], 0.0
    while len(samples) < min_reps or (total < seconds and len(samples) < 200):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        work()
        end.record()
        torch.cuda.synchronize()
        s = start.elapsed_time(end) / 1e3
        samples.append(s)
        total += s
    samples.sort()
    return samples[0], samples[len(samples) // 2], len(samples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tf32", action="store_true", help="allow TF32 tensor cores in matmul")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu_matmul.py: no CUDA device visible to torch", file=sys.stderr)
        sys.exit(2)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    dev = torch.device("cuda")
    print(json.dumps({"bench": "gpu_device", "peer": "torch", "name": torch.cuda.get_device_name(0),
                      "torch": torch.__version__, "tf32": args.tf32}), flush=True)
    g = torch.Generator(device=dev).manual_seed(1)
    for n in SIZES:
        a = torch.rand(n, n, device=dev, generator=g) - 0.5
        b = torch.rand(n, n, device=dev, generator=g) - 0.5
        c = torch.empty(n, n, device=dev)
        best, med, reps = timed(lambda: torch.mm(a, b, out=c))
        flops = 2.0 * n ** 3
        print(json.dumps({"bench": "gpu_gemm", "peer": "torch", "n": n, "gflops_best": round(flops / best / 1e9, 2),
                          "gflops_median": round(flops / med / 1e9, 2), "reps": reps}), flush=True)
        del a, b, c
    for name, (sizes, act) in NETS.items():
        for batch in BATCHES:
            torch.manual_seed(0)
            net = make_net(sizes, act).to(dev)
            x = torch.randn(batch, sizes[0], device=dev)
            y = torch.randn(batch, sizes[-1], device=dev)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)

            def step():
                opt.zero_grad()
                torch.nn.functional.mse_loss(net(x), y).backward()
                opt.step()

            best, med, reps = timed(step)
            print(json.dumps({"bench": "gpu_train_step", "peer": "torch", "net": name, "batch": batch, "update": "adam",
                              "us_best": round(best * 1e6, 1), "us_median": round(med * 1e6, 1), "reps": reps}), flush=True)


if __name__ == "__main__":
    main()
