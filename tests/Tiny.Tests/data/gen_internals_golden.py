#!/usr/bin/python3
"""Writes internals_golden.json: what InternalsRecorder should record of torch.optim's NAdam, RAdam, Adamax, RMSprop,
Adagrad, Adadelta, ASGD and Rprop, computed here in float64 (numpy) from torch 1.13's own state after every step of a
small run, in float64 torch ops (InternalsTests.TheInternalsOfTorchsOptimizersAreTheOnesTorchsStateGives replays the runs).

Run with Debian's torch 1.13:  /usr/bin/python3 tests/Tiny.Tests/data/gen_internals_golden.py [--out DIR]
Deterministic (seeded data written into the file; re-running gives a byte-identical file).

Schema: a JSON list of cases
  {"name", "optimizer": registry name, "options": torch's arguments (non-default ones), "dtype": "float64"|"float32",
   "steps": N, "start": {"w": tensor, "b": tensor} (README's tensor format), "grads": [N x {"w": [flat], "b": [flat]}],
   "internals": [N x {"w": {metric: value}, "b": {...}}]}    # after step k = 1..N, per tensor
The metrics are the optimizer's own (the names and definitions of each optimizer's Internals in src/Optim); every
percentile is torch.quantile's linear one (numpy's default) over all elements (48 and 8 here: below the recorder's sample size). Where the
recorder reconstructs a value from the state after the step, the value here is read from torch's state before it:
Adadelta's acc_delta (its step uses the previous one) and Rprop's prev (a sign flip is g*prev_before < 0).
"""

import argparse
import json
import os

import torch

torch.set_num_threads(1)
DTYPES = {"float64": torch.float64, "float32": torch.float32}
STEPS = 8

OPTIMIZERS = {"nadam": torch.optim.NAdam, "radam": torch.optim.RAdam, "adamax": torch.optim.Adamax,
              "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta,
              "asgd": torch.optim.ASGD, "rprop": torch.optim.Rprop}

CASES = [
    ("nadam", "nadam", {"lr": 0.01}),
    ("nadam_wd_decay", "nadam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.05, "betas": [0.8, 0.99]}),
    ("radam", "radam", {"lr": 0.01}),                               # rho_t passes 5 at step 6: both branches
    ("adamax", "adamax", {"lr": 0.01, "weight_decay": 0.05}),
    ("rmsprop", "rmsprop", {"lr": 0.01}),
    ("rmsprop_centered_momentum", "rmsprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.9}),
    ("adagrad", "adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1}),
    ("adadelta", "adadelta", {"lr": 1.0}),
    ("adadelta_wd_maximize", "adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("asgd", "asgd", {"lr": 0.05, "lambd": 0.01, "t0": 3}),         # averaging from step 5 on
    ("rprop", "rprop", {"lr": 0.01, "step_sizes": [1e-3, 0.02]}),
]


def flat(t):
    return t.detach().to(torch.float64).reshape(-1).tolist()


def data(dtype):
    """w [5, 8] and b [8], and STEPS gradients: rows 0-1 of w keep their sign (Rprop's steps grow to the maximum),
    rows 2-3 alternate it (they flip every other step and shrink to the minimum), the rest random; each step scaled
    differently (the second moments see small and large gradients)."""
    g = torch.Generator().manual_seed(2024)
    w = torch.randn(5, 8, generator=g, dtype=torch.float64)
    b = torch.randn(8, generator=g, dtype=torch.float64)
    scales = [1.0, 0.1, 3.0, 0.01, 1.0, 0.3, 2.0, 0.05]
    grads = []
    for k in range(STEPS):
        gw = torch.randn(5, 8, generator=g, dtype=torch.float64)
        gw[0:2] = gw[0:2].abs() + 0.1
        gw[2:4] = (gw[2:4].abs() + 0.1) * (1 if k % 2 == 0 else -1)
        gb = torch.randn(8, generator=g, dtype=torch.float64)
        grads.append({"w": (gw * scales[k]).to(DTYPES[dtype]), "b": (gb * scales[k]).to(DTYPES[dtype])})
    return w.to(DTYPES[dtype]), b.to(DTYPES[dtype]), grads


def a(t):
    return t.detach().to(torch.float64).reshape(-1)


def norm(t):
    return float(a(t).square().sum().sqrt())


def percentiles(name, x):
    return {f"{name}_p{q}": float(torch.quantile(x, q / 100, interpolation="linear")) for q in (5, 50, 95)}


def internals(kind, o, p, grad, state, before):
    """The optimizer's own metrics of one parameter after a step, from torch's state (and `before`: the state
    buffers as they were before the step)."""
    lr = o["lr"]
    b1, b2 = o.get("betas", [0.9, 0.999])
    eps = o.get("eps", {"adagrad": 1e-10, "adadelta": 1e-6}.get(kind, 1e-8))
    t = int(state["step"]) if "step" in state else None   # a tensor in most 1.13 optimizers, an int in Rprop/Adadelta
    m = {}
    if kind == "nadam":
        bc2 = 1 - b2 ** t
        m.update(percentiles("step", lr / ((a(state["exp_avg_sq"]) / bc2).sqrt() + eps)))
        m["bias_correction2"] = bc2
        m["mu"] = b1 * (1.0 - 0.5 * 0.96 ** (t * o.get("momentum_decay", 4e-3)))
        m["mu_product"] = float(state["mu_product"])
        m["momentum_norm"] = norm(state["exp_avg"])
    elif kind == "radam":
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        if rho_t > 5:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            m.update(percentiles("step", lr * rect * bc2 ** 0.5 / (a(state["exp_avg_sq"]).sqrt() + eps)))
        else:
            m.update(percentiles("step", torch.full((p.numel(),), lr, dtype=torch.float64)))
        m["rectified"] = 1.0 if rho_t > 5 else 0.0
        m["rho_t"] = rho_t
        m["bias_correction1"], m["bias_correction2"] = bc1, bc2
        m["momentum_norm"] = norm(state["exp_avg"])
    elif kind == "adamax":
        m.update(percentiles("step", lr / a(state["exp_inf"])))
        m["bias_correction1"] = 1 - b1 ** t
        m["momentum_norm"] = norm(state["exp_avg"])
    elif kind == "rmsprop":
        v = a(state["square_avg"])
        if o.get("centered"):
            v = v - a(state["grad_avg"]) ** 2
        m.update(percentiles("step", lr / (v.sqrt() + eps)))
        m["square_avg_norm"] = norm(state["square_avg"])
        if o.get("momentum", 0) > 0:
            m["momentum_norm"] = norm(state["momentum_buffer"])
        if o.get("centered"):
            m["grad_avg_norm"] = norm(state["grad_avg"])
    elif kind == "adagrad":
        clr = lr / (1 + (t - 1) * o.get("lr_decay", 0))
        m.update(percentiles("step", clr / (a(state["sum"]).sqrt() + eps)))
        m["sum_norm"] = norm(state["sum"])
    elif kind == "adadelta":
        u_prev = a(before["acc_delta"]) if "acc_delta" in before else torch.zeros(p.numel(), dtype=torch.float64)
        m.update(percentiles("step", lr * (u_prev + eps).sqrt() / (a(state["square_avg"]) + eps).sqrt()))
        m["square_avg_norm"] = norm(state["square_avg"])
        m["acc_delta_norm"] = norm(state["acc_delta"])
    elif kind == "asgd":
        m["eta"] = float(state["eta"])
        m["mu"] = float(state["mu"])
        m["ax_distance"] = float((a(state["ax"]) - a(p)).square().sum().sqrt())
    elif kind == "rprop":
        lo, hi = o.get("step_sizes", [1e-6, 50])
        size = state["step_size"]
        m["at_min"] = float((size <= torch.tensor(lo, dtype=size.dtype)).double().mean())
        m["at_max"] = float((size >= torch.tensor(hi, dtype=size.dtype)).double().mean())
        m["step_size_mean"] = float(a(size).mean())
        g = -grad if o.get("maximize") else grad
        prev = before.get("prev", torch.zeros_like(grad))
        m["sign_flips"] = float((g.mul(prev) < 0).double().mean())
    return m


def run(name, kind, options, dtype):
    w, b, grads = data(dtype)
    P = {"w": w.clone().requires_grad_(True), "b": b.clone().requires_grad_(True)}
    o = dict(options)
    args = dict(o)
    for k in ("betas", "etas", "step_sizes"):
        if k in args:
            args[k] = tuple(args[k])
    if kind not in ("asgd", "rprop", "nadam", "radam"):
        args["foreach"] = False
    opt = OPTIMIZERS[kind](list(P.values()), **args)
    start = {n: {"shape": list(t.shape), "data": flat(t)} for n, t in P.items()}
    recorded = []
    for k in range(STEPS):
        for n in P:
            P[n].grad = grads[k][n].clone()
        before = {n: {key: v.clone() for key, v in opt.state[P[n]].items() if torch.is_tensor(v)} for n in P}
        opt.step()
        recorded.append({n: internals(kind, o, P[n], P[n].grad, opt.state[P[n]], before[n]) for n in P})
    return {"name": name + ("" if dtype == "float64" else "_f32"), "optimizer": kind, "options": options,
            "dtype": dtype, "steps": STEPS, "start": start,
            "grads": [{n: flat(g[n]) for n in P} for g in grads], "internals": recorded}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(ap.parse_args().out, "internals_golden.json")
    cases = [run(name, kind, options, dtype) for dtype in ("float64", "float32") for name, kind, options in CASES]
    with open(out, "w") as f:
        json.dump(cases, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"{out}: {len(cases)} cases, {os.path.getsize(out) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
