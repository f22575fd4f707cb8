#!/usr/bin/python3
"""Writes optim_golden_lit3.json (Schedule-Free AdamW / SGD and Lookahead trajectories, the schema of
optim_golden.json) and schedulefree_switch_golden.json (schedule-free train()/eval() sequences), from the authors'
code run under Debian's torch 1.13. Schemas: README.md next to this file.

    /usr/bin/python3 tests/Tiny.Tests/data/gen_golden_lit3.py --schedulefree DIR --lookahead DIR [--out DIR]

--schedulefree: a folder holding adamw_schedulefree.py and sgd_schedulefree.py, exported from
facebookresearch/schedule_free commit 70785b53e778d0e872c0bbb75ff4ee54ee10c291 (schedulefree/):
    git --git-dir=<mirror> show HEAD:schedulefree/adamw_schedulefree.py > DIR/adamw_schedulefree.py  (same for sgd_)
--lookahead: a folder holding lookahead_pytorch.py from michaelrzhang/lookahead commit
c4fd85f73cdaa6450eacf7d52d9050d9ff98a6e1.
The references are imported from those paths, not vendored.

What was changed to run them under torch 1.13: AdamWScheduleFree and SGDScheduleFree are built with foreach=False
(their default, foreach=True where torch has _foreach_mul_, calls torch._foreach_lerp_, which 1.13 lacks): their
single-tensor path, the one Tiny follows. Nothing else; Lookahead runs as it is (wrapping torch.optim.SGD,
torch.optim.Adam and gen_golden.py's AlphaGrad, whose step() is given the closure argument Lookahead passes). Each schedule-free optimizer gets .train() before its first step,
as the reference requires.

torch 1.13's p.lerp_(end, w) with a float weight (the schedule-free steps and switch), checked here against exact
arithmetic on tensors of 5 and 2000 elements, float64 and float32, w in {-7/3, -1.5, -0.6, -0.5, -1/9, 0.02, 0.1, 1/3,
0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.99, 1, 1.5}: w = T(w); w < 0.5 ? fma(w, end - p, p) : fma(-(end - p), T(1) - w,
end), every element. The test is w < 0.5, not |w| < 0.5 (negative weights, eval()'s 1 - 1/beta1, take the first
form); the unfused forms differ on up to half of the elements. See check_lerp().

Deterministic: re-running gives byte-identical files.
"""

import argparse
import importlib.util
import os
import sys
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_golden as G  # noqa: E402  (functions, MLP data and init, helpers)

REF = {}


def load(path, module):
    spec = importlib.util.spec_from_file_location(module, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def make_optimizer(kind, params, options):
    """kind is the registry name; lookahead_k / lookahead_alpha wrap any of them in the reference Lookahead."""
    o = dict(options)
    k = o.pop("lookahead_k", 0)
    alpha = o.pop("lookahead_alpha", 0.8)          # Lookahead's own default la_alpha
    if kind == "schedulefree-adamw":
        if "betas" in o:
            o["betas"] = tuple(o["betas"])
        opt = REF["adamw"](params, foreach=False, **o)
        opt.train()
    elif kind == "schedulefree-sgd":
        opt = REF["sgd"](params, foreach=False, **o)
        opt.train()
    else:
        opt = G.make_optimizer(kind, params, o)
        if kind == "alphagrad":                   # gen_golden's AlphaGrad.step() takes no closure; Lookahead passes one
            opt.step = (lambda step: lambda closure=None: step())(opt.step)
    return REF["lookahead"](opt, la_steps=k, la_alpha=alpha) if k else opt


def inner(opt):
    return opt.optimizer if hasattr(opt, "optimizer") else opt


def run_2d(name, kind, options, problem, dtype, steps=120):
    dt = G.DTYPES[dtype]
    expr, f = G.FUNCS[problem]
    p = torch.tensor(G.STARTS[problem], dtype=dt, requires_grad=True)
    opt = make_optimizer(kind, [p], options)
    sf = kind.startswith("schedulefree")
    start = {"p": G.tensor_json(p)}
    traj, losses, grads, zs = [], [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        losses.append(float(loss))
        grads.append({"p": G.flat(p.grad)})
        opt.step()
        traj.append({"p": G.flat(p)})
        if sf:
            zs.append({"p": G.flat(inner(opt).state[p]["z"])})
        if not all(np.isfinite(traj[-1]["p"])):
            raise RuntimeError(f"{name}: diverged")
    case = {"name": name, "optimizer": kind, "options": options, "problem": problem, "expression": expr,
            "dtype": dtype, "steps": steps, "start": start, "trajectory": traj, "loss": losses, "grads": grads}
    if sf:
        case["z"] = zs                            # state['z'] after each step
    return case


def run_mlp(name, kind, options, dtype, steps=100, groups=None, record_grads=False):
    dt = G.DTYPES[dtype]
    P = {n: G.MLP_INIT[n].to(dt).clone().requires_grad_(True) for n in G.MLP_NAMES}
    x, y = G.MLP_X.to(dt), G.MLP_Y.to(dt)
    params = ([dict({"params": [P[n] for n in g["params"]]}, **g["options"]) for g in groups] if groups
              else [P[n] for n in G.MLP_NAMES])
    opt = make_optimizer(kind, params, options)
    start = {n: G.tensor_json(P[n]) for n in G.MLP_NAMES}
    traj, losses, grads = [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(G.mlp_forward(P, x), y)
        loss.backward()
        losses.append(float(loss))
        if record_grads:
            grads.append({n: G.flat(P[n].grad) for n in G.MLP_NAMES})
        opt.step()
        traj.append({n: G.flat(P[n]) for n in G.MLP_NAMES})
    case = {"name": name, "optimizer": kind, "options": options, "problem": "mlp",
            "expression": "F.mse_loss(linear(tanh(linear(tanh(linear(x, w1, b1)), w2, b2)), w3, b3), y)",
            "dtype": dtype, "steps": steps, "data": {"x": G.tensor_json(x), "y": G.tensor_json(y)},
            "start": start, "trajectory": traj, "loss": losses}
    if record_grads:
        case["grads"] = grads
    if groups:
        case["groups"] = groups
    return case


def cases():
    C = []
    add2 = lambda *a, **k: C.append(run_2d(*a, **k))
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # Schedule-Free AdamW: every option non-default at least once; warmup gives ckp1 > 0.5 (lerp's other branch)
        add2("sfadamw_rosenbrock" + s, "schedulefree-adamw", {"lr": 0.05}, "rosenbrock", dtype)
        add2("sfadamw_betas_eps_beale" + s, "schedulefree-adamw", {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6},
             "beale", dtype)
        add2("sfadamw_warmup_himmelblau" + s, "schedulefree-adamw", {"lr": 0.1, "warmup_steps": 20}, "himmelblau",
             dtype)
        add2("sfadamw_wd_r_quadratic" + s, "schedulefree-adamw", {"lr": 0.1, "weight_decay": 0.05, "r": 1.0},
             "quadratic", dtype)
        add2("sfadamw_inner_momentum_power_rosenbrock" + s, "schedulefree-adamw",
             {"lr": 0.02, "inner_momentum": 0.9, "warmup_steps": 10, "weight_lr_power": 1.0}, "rosenbrock", dtype)
        add2("sfadamw_beta1_04_himmelblau" + s, "schedulefree-adamw", {"lr": 0.05, "betas": [0.4, 0.999]},
             "himmelblau", dtype)
        # Schedule-Free SGD
        add2("sfsgd_rosenbrock" + s, "schedulefree-sgd", {"lr": 1e-3}, "rosenbrock", dtype)
        add2("sfsgd_momentum_beale" + s, "schedulefree-sgd", {"lr": 0.01, "momentum": 0.5}, "beale", dtype)
        add2("sfsgd_warmup_power_himmelblau" + s, "schedulefree-sgd",
             {"lr": 0.01, "warmup_steps": 15, "weight_lr_power": 1.0}, "himmelblau", dtype)
        add2("sfsgd_wd_r_quadratic" + s, "schedulefree-sgd", {"lr": 0.05, "weight_decay": 0.1, "r": 0.5},
             "quadratic", dtype)
        # Lookahead around torch.optim.SGD, torch.optim.Adam and AlphaGrad
        add2("lookahead_sgd_momentum_rosenbrock" + s, "sgd",
             {"lr": 1e-3, "momentum": 0.9, "lookahead_k": 5, "lookahead_alpha": 0.5}, "rosenbrock", dtype)
        add2("lookahead_adam_beale" + s, "adam", {"lr": 0.05, "lookahead_k": 6, "lookahead_alpha": 0.8}, "beale",
             dtype)
        add2("lookahead_adam_default_alpha_himmelblau" + s, "adam", {"lr": 0.1, "lookahead_k": 5}, "himmelblau",
             dtype)
        add2("lookahead_alphagrad_quadratic" + s, "alphagrad", {"lr": 0.02, "lookahead_k": 3, "lookahead_alpha": 0.3},
             "quadratic", dtype)
        add2("lookahead_sgd_k1_quadratic" + s, "sgd", {"lr": 0.05, "lookahead_k": 1, "lookahead_alpha": 0.7},
             "quadratic", dtype)
    addm = lambda *a, **k: C.append(run_mlp(*a, **k))
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # with our autograd
        addm("mlp_sfadamw" + s, "schedulefree-adamw", {"lr": 0.01}, dtype)
        addm("mlp_sfsgd" + s, "schedulefree-sgd", {"lr": 0.05}, dtype)
        addm("mlp_lookahead_adam" + s, "adam", {"lr": 0.01, "lookahead_k": 5, "lookahead_alpha": 0.5}, dtype)
        # with torch's gradients: SIMD lanes bit for bit; groups with their own warmup (group-level k, lr_max, weight_sum)
        addm("mlp_sfadamw_groups_grads" + s, "schedulefree-adamw", {"lr": 0.01, "warmup_steps": 10}, dtype, steps=60,
             groups=[{"params": ["w1", "b1"], "options": {"lr": 0.02, "inner_momentum": 0.9, "weight_decay": 0.01}},
                     {"params": ["w2", "b2", "w3", "b3"], "options": {"warmup_steps": 5, "r": 1.0}}],
             record_grads=True)
        addm("mlp_sfsgd_groups_grads" + s, "schedulefree-sgd", {"lr": 0.05}, dtype, steps=60,
             groups=[{"params": ["w1", "b1"], "options": {"momentum": 0.5, "weight_decay": 0.01}},
                     {"params": ["w2", "b2", "w3", "b3"], "options": {"warmup_steps": 8}}],
             record_grads=True)
        addm("mlp_lookahead_sgd_grads" + s, "sgd", {"lr": 0.05, "momentum": 0.9, "lookahead_k": 4,
                                                     "lookahead_alpha": 0.6}, dtype, steps=60, record_grads=True)
    return C


def switch_cases():
    """Schedule-free train()/eval(): the MLP parameters after every op of a sequence of steps (torch's gradients
    recorded), eval() and train() (x and back to y: the round trip changes the last bits, as in the reference)."""
    out = []
    ops = ["step"] * 12 + ["eval", "train"] + ["step"] * 7 + ["eval", "eval", "train", "train", "step", "eval"]
    settings = [("sfadamw", "schedulefree-adamw", {"lr": 0.01, "warmup_steps": 4}),
                ("sfadamw_beta1_04", "schedulefree-adamw", {"lr": 0.01, "betas": [0.4, 0.999], "inner_momentum": 0.9}),
                ("sfsgd", "schedulefree-sgd", {"lr": 0.05, "weight_decay": 0.01}),
                ("sfsgd_momentum_03", "schedulefree-sgd", {"lr": 0.05, "momentum": 0.3})]
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        dt = G.DTYPES[dtype]
        for name, kind, options in settings:
            P = {n: G.MLP_INIT[n].to(dt).clone().requires_grad_(True) for n in G.MLP_NAMES}
            x, y = G.MLP_X.to(dt), G.MLP_Y.to(dt)
            opt = make_optimizer(kind, [P[n] for n in G.MLP_NAMES], options)
            rec = []
            for op in ops:
                r = {"op": op}
                if op == "step":
                    opt.zero_grad()
                    F.mse_loss(G.mlp_forward(P, x), y).backward()
                    r["grads"] = {n: G.flat(P[n].grad) for n in G.MLP_NAMES}
                    opt.step()
                elif op == "eval":
                    opt.eval()
                else:
                    opt.train()
                r["params"] = {n: G.flat(P[n]) for n in G.MLP_NAMES}
                rec.append(r)
            out.append({"name": "switch_" + name + s, "optimizer": kind, "options": options, "dtype": dtype,
                        "start": {n: G.tensor_json(G.MLP_INIT[n].to(dt)) for n in G.MLP_NAMES}, "ops": rec})
    return out


def check_lerp():
    """torch's lerp_ against the fused model (exact arithmetic, rounded once); raises on a mismatch."""
    def r32(x):
        f = np.float32(float(x))
        c = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
        return float(min(c, key=lambda v: (abs(Fraction(float(v)) - x), int(np.float32(v).view(np.uint32)) & 1)))

    for dt in [torch.float64, torch.float32]:
        R = (lambda v: float(v)) if dt == torch.float64 else r32
        for n in [5, 2000]:
            for w in [-7 / 3, -1.5, -0.6, -0.5, -1 / 9, 0.02, 0.1, 1 / 3, 0.5, 0.55, 0.6, 0.7, 0.75, 0.8, 0.9, 0.99, 1.0, 1.5]:
                g = torch.Generator().manual_seed(n)
                a = torch.randn(n, generator=g, dtype=torch.float64).to(dt)
                b = torch.randn(n, generator=g, dtype=torch.float64).to(dt)
                out = a.clone().lerp_(b, w).tolist()
                wt = Fraction(R(Fraction(w)))
                for i in range(n):
                    s, e = Fraction(a[i].item()), Fraction(b[i].item())
                    d = Fraction(R(e - s))
                    want = R(s + wt * d) if wt < Fraction(1, 2) else R(e - d * Fraction(R(1 - wt)))
                    if want != out[i]:
                        raise RuntimeError(f"lerp model: {dt} n={n} w={w} element {i}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schedulefree", required=True)
    ap.add_argument("--lookahead", required=True)
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    torch.set_num_threads(1)
    REF["adamw"] = load(os.path.join(a.schedulefree, "adamw_schedulefree.py"), "adamw_schedulefree").AdamWScheduleFree
    REF["sgd"] = load(os.path.join(a.schedulefree, "sgd_schedulefree.py"), "sgd_schedulefree").SGDScheduleFree
    REF["lookahead"] = load(os.path.join(a.lookahead, "lookahead_pytorch.py"), "lookahead_pytorch").Lookahead
    check_lerp()
    G.dump(cases(), os.path.join(a.out, "optim_golden_lit3.json"))
    G.dump(switch_cases(), os.path.join(a.out, "schedulefree_switch_golden.json"))


if __name__ == "__main__":
    main()
