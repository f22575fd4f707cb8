# Peer of bench/Tiny.Bench/OptimBench.cs: one torch optimizer step (single-tensor path, PyTorch 1.13 CPU) on
# 1M and 10M float32 parameters, us/step best/median, one JSON line per figure, 1 and 2 threads.
#   /usr/bin/python3 bench/peers/optim_step.py [reps]
import json, os, sys, time
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Tiny.Tests", "data"))
from gen_golden import AdaBound, AlphaGrad  # the reference classes the golden data was made with

OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=1e-3),
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps),
    "adamw": lambda ps: torch.optim.AdamW(ps),
    "adabound": lambda ps: AdaBound(ps),
    "alphagrad": lambda ps: AlphaGrad(ps),
    "alphagrad_momentum": lambda ps: AlphaGrad(ps, momentum=0.9),
}


def timed(reps, fn):
    for _ in range(3):
        fn()
    us = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        us.append((time.perf_counter() - t0) * 1e6)
    us.sort()
    return us[0], us[len(us) // 2]


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for n in (1_000_000, 10_000_000):
            g = torch.Generator().manual_seed(1)
            p = torch.randn(n, generator=g).requires_grad_()
            p.grad = torch.randn(n, generator=g) * 1e-3
            best, med = timed(reps, lambda: p.grad.copy_(p.detach()))
            print(json.dumps({"bench": "optim", "impl": "torch", "threads": threads, "optimizer": "copy", "n": n,
                              "us_best": round(best, 1), "us_median": round(med, 1)}), flush=True)
            for name, make in OPTIMIZERS.items():
                opt = make([p])
                best, med = timed(reps, opt.step)
                state = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values() if torch.is_tensor(t) and t.numel() > 1)
                print(json.dumps({"bench": "optim", "impl": "torch", "threads": threads, "optimizer": name, "n": n,
                                  "us_best": round(best, 1), "us_median": round(med, 1), "state_bytes_per_param": state / n}), flush=True)


if __name__ == "__main__":
    main()
