#!/usr/bin/python3
"""PyTorch peer of `Tiny.Bench forward1`: batch-1 forward (action selection) of each agent's policy net.

Nets: PPO CartPole actor 4-64-64-2 Tanh, DQN CartPole 4-120-84-2 ReLU, TD3 Pendulum actor 3-400-300-1 ReLU with
tanh * 2 + 0, DQN MinAtar Breakout CNN (the flat [1, 400] observation reshaped to [1, 4, 10, 10], Conv 4->16 3x3,
ReLU, flatten, 1024->128, ReLU, 128->3). Each under torch.no_grad() and under torch.inference_mode(); one JSON line
per net and mode.
"""

import argparse

import torch

from common import emit, make_net, setup, time_budget_us


class Td3Actor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = make_net([3, 400, 300, 1], torch.nn.ReLU)

    def forward(self, x):
        return torch.tanh(self.net(x)) * 2.0 + 0.0


class MinAtarQ(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(4, 16, 3, stride=1)
        self.fc = torch.nn.Sequential(torch.nn.Linear(1024, 128), torch.nn.ReLU(), torch.nn.Linear(128, 3))

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x.view(-1, 4, 10, 10))).flatten(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--passes", type=int, default=5)
    args = ap.parse_args()
    meta = setup(args.threads)
    torch.manual_seed(0)
    nets = [
        ("ppo-cartpole-actor-4-64-64-2-tanh", make_net([4, 64, 64, 2], torch.nn.Tanh), torch.randn(1, 4)),
        ("dqn-cartpole-4-120-84-2-relu", make_net([4, 120, 84, 2], torch.nn.ReLU), torch.randn(1, 4)),
        ("td3-pendulum-actor-3-400-300-1", Td3Actor(), torch.randn(1, 3)),
        ("dqn-minatar-breakout-cnn", MinAtarQ(), torch.randn(1, 400)),
    ]
    for name, net, x in nets:
        for mode, ctx in (("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)):
            def step():
                with ctx():
                    net(x)
            best, med, reps = time_budget_us(step, args.passes, pass_seconds=0.2)
            emit(meta, bench="forward1", net=name, batch=1, mode=mode, us_best=round(best, 2), us_median=round(med, 2),
                 reps=reps, passes=args.passes)


if __name__ == "__main__":
    main()
