#!/usr/bin/python3
"""Writes optim_golden_mlp_grads.json: gen_golden.py's AlphaGrad MLP cases again (same net, data, init and
options), with torch's gradient of every step recorded ("grads", as in the 2-D cases), so that the optimizer
can be replayed bit-exactly without our autograd; and optim_golden_mlp_grads_torch.json: the same for the two
multi-group torch.optim MLP cases (mlp_rmsprop_groups, mlp_nadam_groups), whose float32 trajectories amplify
the last bits of the gradients (RMSprop's centered sqrt(v - ga^2)). Schema: README.md next to this file.

Run with Debian's torch 1.13:  /usr/bin/python3 tests/Tiny.Tests/data/gen_alphagrad_mlp_grads.py [--out DIR]
Deterministic: re-running gives a byte-identical file.
"""

import argparse
import os
import sys

import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_golden as G  # noqa: E402  (the optimizer classes, MLP data, init and helpers)


def run_mlp_grads(name, kind, options, dtype, steps=100, groups=None):
    dt = G.DTYPES[dtype]
    P = {n: G.MLP_INIT[n].to(dt).clone().requires_grad_(True) for n in G.MLP_NAMES}
    x, y = G.MLP_X.to(dt), G.MLP_Y.to(dt)
    params = ([dict({"params": [P[n] for n in g["params"]]}, **g["options"]) for g in groups] if groups
              else [P[n] for n in G.MLP_NAMES])
    opt = G.make_optimizer(kind, params, options)
    start = {n: G.tensor_json(P[n]) for n in G.MLP_NAMES}
    traj, losses, grads = [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(G.mlp_forward(P, x), y)
        loss.backward()
        losses.append(float(loss))
        grads.append({n: G.flat(P[n].grad) for n in G.MLP_NAMES})
        opt.step()
        traj.append({n: G.flat(P[n]) for n in G.MLP_NAMES})
    case = {"name": name, "optimizer": kind, "options": options, "problem": "mlp",
            "expression": "F.mse_loss(linear(tanh(linear(tanh(linear(x, w1, b1)), w2, b2)), w3, b3), y)",
            "dtype": dtype, "steps": steps, "data": {"x": G.tensor_json(x), "y": G.tensor_json(y)},
            "start": start, "trajectory": traj, "loss": losses, "grads": grads}
    if groups:
        case["groups"] = groups
    return case


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    C = []
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        C.append(run_mlp_grads("mlp_alphagrad_grads" + s, "alphagrad", {"lr": 0.01, "alpha": 1.0}, dtype))
        C.append(run_mlp_grads("mlp_alphagrad_momentum_grads" + s, "alphagrad",
                               {"lr": 0.005, "alpha": 2.0, "momentum": 0.9}, dtype))
        C.append(run_mlp_grads("mlp_alphagrad_groups_grads" + s, "alphagrad", {"lr": 0.01, "momentum": 0.9}, dtype,
                               groups=[{"params": ["w1", "b1"], "options": {"lr": 0.005, "alpha": 0.5, "weight_decay": 0.01}},
                                       {"params": ["w2", "b2", "w3", "b3"], "options": {}}]))
    G.dump(C, os.path.join(a.out, "optim_golden_mlp_grads.json"))
    T = []
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        T.append(run_mlp_grads("mlp_rmsprop_groups_grads" + s, "rmsprop", {"lr": 0.005, "alpha": 0.9}, dtype,
                               groups=[{"params": ["w1", "b1"], "options": {"lr": 0.01, "momentum": 0.9, "centered": True}},
                                       {"params": ["w2", "b2", "w3", "b3"], "options": {"weight_decay": 0.01}}]))
        T.append(run_mlp_grads("mlp_nadam_groups_grads" + s, "nadam", {"lr": 0.01}, dtype,
                               groups=[{"params": ["w1", "b1"], "options": {"lr": 0.005, "momentum_decay": 0.01, "weight_decay": 0.01}},
                                       {"params": ["w2", "b2", "w3", "b3"], "options": {"betas": [0.8, 0.99], "eps": 1e-6}}]))
    G.dump(T, os.path.join(a.out, "optim_golden_mlp_grads_torch.json"))


if __name__ == "__main__":
    main()
