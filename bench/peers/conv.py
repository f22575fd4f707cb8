#!/usr/bin/python3
"""PyTorch peer of `Tiny.Bench conv`: forward + backward (MSE to a fixed target, no update) of the Nature-DQN conv
stack (4->32 8x8 s4, 32->64 4x4 s2, 64->64 3x3 s1, ReLU after each) on [32, 4, 84, 84] and of MinAtar's Q-network
(Conv2d 4->16 3x3, ReLU, Flatten, 1024->128, ReLU, 128->3) on [32, 4, 10, 10], microseconds per step.
One JSON line per figure on stdout: {"bench": "conv", "peer": "torch", "net", "batch", "us_best", "us_median", ...}.
"""

import argparse

import torch

from common import emit, setup, time_us


def nets():
    nature = torch.nn.Sequential(
        torch.nn.Conv2d(4, 32, 8, stride=4), torch.nn.ReLU(),
        torch.nn.Conv2d(32, 64, 4, stride=2), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, stride=1), torch.nn.ReLU())
    minatar = torch.nn.Sequential(
        torch.nn.Conv2d(4, 16, 3, stride=1), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(16 * 8 * 8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 3))
    return [("nature-conv", nature, (32, 4, 84, 84), (32, 64, 7, 7), 20),
            ("minatar-q", minatar, (32, 4, 10, 10), (32, 3), 500)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--passes", type=int, default=5)
    a = ap.parse_args()
    meta = setup(a.threads)
    torch.manual_seed(0)
    for name, net, xs, ys, reps in nets():
        params = list(net.parameters())
        x = torch.randn(*xs)
        y = torch.randn(*ys)

        def step():
            for p in params:
                p.grad = None
            torch.nn.functional.mse_loss(net(x), y).backward()

        best, med = time_us(step, reps, warmup=max(3, reps // 4), passes=a.passes)
        emit(meta, bench="conv", net=name, batch=xs[0], us_best=round(best, 1), us_median=round(med, 1), reps=reps, passes=a.passes)


if __name__ == "__main__":
    main()
