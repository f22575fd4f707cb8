#!/usr/bin/python3
"""PyTorch peer: one MLP training step (zero_grad, forward, MSE, backward, update) in microseconds.

Update = plain SGD written inline (`p -= lr * p.grad` under no_grad) or torch.optim.Adam's step().
Nets: 4-64-64-2 Tanh at batch 64 (optionally batches 64..4096) and 4-256-256-1 ReLU at batch 256.
One JSON line per figure on stdout: {"bench": "train_step", "peer": "torch", "net", "batch", "update",
"us_best", "us_median", ...}.
"""

import argparse

import torch

from common import emit, make_net, setup, time_us

NETS = {
    "4-64-64-2-tanh": ([4, 64, 64, 2], torch.nn.Tanh),
    "4-256-256-1-relu": ([4, 256, 256, 1], torch.nn.ReLU),
    "4-120-84-2-relu": ([4, 120, 84, 2], torch.nn.ReLU),
}


def bench(meta, name, batch, update, reps, passes):
    torch.manual_seed(0)
    sizes, act = NETS[name]
    net = make_net(sizes, act)
    params = list(net.parameters())
    x = torch.randn(batch, sizes[0])
    y = torch.randn(batch, sizes[-1])
    lr = 1e-3
    if update == "sgd":
        def step():
            for p in params:
                p.grad = None
            loss = torch.nn.functional.mse_loss(net(x), y)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
    else:
        opt = torch.optim.Adam(params, lr=lr)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x), y)
            loss.backward()
            opt.step()
    best, med = time_us(step, reps, passes=passes)
    return emit(meta, bench="train_step", net=name, batch=batch, update=update, us_best=round(best, 2),
                us_median=round(med, 2), reps=reps, passes=passes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", action="store_true", help="also sweep batch 64..4096 on 4-64-64-2 Tanh")
    ap.add_argument("--with-dqn-net", action="store_true", help="also 4-120-84-2 ReLU at batch 128")
    ap.add_argument("--reps", type=int, default=200, help="steps per pass (small net; large net uses reps/10)")
    ap.add_argument("--passes", type=int, default=5)
    a = ap.parse_args()
    meta = setup(a.threads)
    work = [("4-64-64-2-tanh", 64), ("4-256-256-1-relu", 256)]
    if a.with_dqn_net:
        work.append(("4-120-84-2-relu", 128))
    if a.batches:
        work += [("4-64-64-2-tanh", b) for b in (128, 256, 512, 1024, 2048, 4096)]
    for name, batch in work:
        scale = max(1, (batch * max(NETS[name][0])) // (64 * 64))
        reps = max(5, a.reps // scale)
        for update in ("sgd", "adam"):
            bench(meta, name, batch, update, reps, a.passes)


if __name__ == "__main__":
    main()
