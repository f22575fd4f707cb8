# Peer of bench/Tiny.Bench/GemmBench.cs: torch.mm GFLOP/s on the same shapes, order and timing, one JSON line per figure.
# Run with the oneDNN shim (fair stand-in for pip PyTorch) and as installed, see /work/shared/bench/README.md:
#   bench/peers/run.sh gemm.py [sizes|rl|all] [reps]     (SHIM_ONLY=1 for the shim alone)
# Transposed operands are passed as .t() views of the stored matrices, so BLAS sees the same trans flags as Tiny.
# One thread: cpu_gflops_best also divides by this thread's CPU time (time.thread_time), as GemmBench does.
import json, sys, time
import torch

from common import shim_active, warm

SQUARES = [("sq64", 64, 64, 64), ("sq128", 128, 128, 128), ("sq256", 256, 256, 256), ("sq512", 512, 512, 512),
           ("sq1024", 1024, 1024, 1024), ("64x4x64", 64, 4, 64), ("128x120x84", 128, 120, 84)]  # (name, m, k, n)


def rl_shapes():
    """(name, m, k, n, transA, transB) of the agents' training GEMMs, as GemmBench.BuildRl lists them."""
    s = []

    def layer(net, lay, b, in_f, out_f, dx):
        s.append((f"{net}.{lay}.fwd", b, in_f, out_f, False, True))    # X W^T
        s.append((f"{net}.{lay}.dw", out_f, b, in_f, True, False))     # dY^T X
        if dx:
            s.append((f"{net}.{lay}.dx", b, out_f, in_f, False, False))  # dY W

    layer("dqn_b128", "l1", 128, 4, 120, False); layer("dqn_b128", "l2", 128, 120, 84, True); layer("dqn_b128", "l3", 128, 84, 2, True)
    layer("td3c_b256", "l1", 256, 4, 400, True); layer("td3c_b256", "l2", 256, 400, 300, True); layer("td3c_b256", "l3", 256, 300, 1, True)
    layer("td3a_b256", "l1", 256, 3, 400, False)
    for b in (128, 512):
        layer(f"ppo_b{b}", "l1", b, 4, 64, False); layer(f"ppo_b{b}", "l2", b, 64, 64, True); layer(f"ppo_b{b}", "l3", b, 64, 2, True)
    s.append(("minatar_b32.conv.fwd", 16, 36, 32 * 64, False, False))
    s.append(("minatar_b32.conv.dw", 16, 32 * 64, 36, False, True))
    layer("minatar_b32", "fc1", 32, 1024, 128, True); layer("minatar_b32", "fc2", 32, 128, 3, True)
    return s


def bench(m, k, n, ta, tb, threads, reps):
    """Warm-up by time (common.warm, as Harness.Warm), then reps passes of ~25 ms; (best, median) GFLOP/s."""
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    a = (torch.rand(k, m, generator=g) - 0.5).t() if ta else torch.rand(m, k, generator=g) - 0.5   # stored [k,m] when ta
    b = (torch.rand(n, k, generator=g) - 0.5).t() if tb else torch.rand(k, n, generator=g) - 0.5   # stored [n,k] when tb
    c = torch.empty(m, n)
    flops = 2.0 * m * n * k
    with torch.no_grad():
        last_us = warm(lambda: torch.mm(a, b, out=c))
        batch = int(min(max(25_000 / last_us, 1), 1_000_000))
        samples, cpu_best = [], 0.0
        for _ in range(reps):
            t0, c0 = time.perf_counter(), time.thread_time()
            for _ in range(batch):
                torch.mm(a, b, out=c)
            cpu = time.thread_time() - c0
            samples.append(flops * batch / (time.perf_counter() - t0) / 1e9)
            cpu_best = max(cpu_best, flops * batch / cpu / 1e9)
    samples.sort()
    return samples[-1], samples[len(samples) // 2], cpu_best


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    blas = "onednn_shim" if shim_active() else "as_installed"
    shapes = []
    if what in ("all", "sizes"):
        shapes += [(name, m, k, n, False, False) for name, m, k, n in SQUARES]
    if what in ("all", "rl"):
        shapes += rl_shapes()
    for name, m, k, n, ta, tb in shapes:
        for t in (1, 2):
            best, med, cpu_best = bench(m, k, n, ta, tb, t, reps)
            row = {"bench": "gemm", "peer": "torch", "blas": blas, "name": name, "m": m, "n": n, "k": k,
                   "threads": t, "transA": ta, "transB": tb, "gflops_best": round(best, 2), "gflops_median": round(med, 2)}
            if t == 1:  # per second of this thread's CPU time (time.thread_time), as GemmBench's cpu_gflops_best
                row["cpu_gflops_best"] = round(cpu_best, 2)
            row["us_best"] = round(2.0 * m * n * k / best / 1e3, 3)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
