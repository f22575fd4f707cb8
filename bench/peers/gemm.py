# Peer of bench/Tiny.Bench/GemmBench.cs: torch.mm GFLOP/s on the same shapes, one JSON line per figure.
# Run with the oneDNN shim (fair stand-in for pip PyTorch) and as installed, see /work/shared/bench/README.md:
#   LD_PRELOAD=/tmp/libdnnl_sgemm_shim.so /usr/bin/python3 bench/peers/gemm.py [reps]
import ctypes, json, sys, time
import torch

SHAPES = [(64, 64, 64), (128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (64, 4, 64), (128, 120, 84)]  # (m, k, n)


def shim_active():
    try:
        return bool(ctypes.CDLL(None).dnnl_sgemm_shim_active())
    except (AttributeError, OSError):
        return False


def bench(m, k, n, threads, reps):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    a = torch.rand(m, k, generator=g) - 0.5
    b = torch.rand(k, n, generator=g) - 0.5
    c = torch.empty(m, n)
    flops = 2.0 * m * n * k
    batch = int(min(max(2e9 / flops, 1), 200_000))  # same batching as the C# side (~20 ms at 100 GFLOP/s)
    with torch.no_grad():
        for _ in range(3):
            for _ in range(batch):
                torch.mm(a, b, out=c)
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(batch):
                torch.mm(a, b, out=c)
            samples.append(flops * batch / (time.perf_counter() - t0) / 1e9)
    samples.sort()
    return samples[-1], samples[len(samples) // 2]


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    blas = "onednn_shim" if shim_active() else "as_installed"
    for m, k, n in SHAPES:
        for t in (1, 2):
            best, med = bench(m, k, n, t, reps)
            print(json.dumps({"bench": "gemm", "peer": "torch", "blas": blas, "m": m, "n": n, "k": k, "threads": t,
                              "gflops_best": round(best, 2), "gflops_median": round(med, 2),
                              "us_best": round(2.0 * m * n * k / best / 1e3, 2)}), flush=True)


if __name__ == "__main__":
    main()
