#!/usr/bin/python3
"""Writes optim_golden_lit1.json: golden trajectories of Lion, Adan, AdaBelief and LaProp from the authors' reference
code itself (issue 15), in gen_golden.py's schema (README.md next to this file): per optimizer, 2-D cases with the
recorded gradients in float64 and float32 (`_f32`), every 2-D function and every option at a non-default value at
least once, and MLP cases per dtype (without "grads": replayed with Tiny's autograd; Adan's global-norm clipping also
once with torch's gradients recorded, replayed bit-exactly).

The references are not vendored: pass the folder holding the four files, exported from the repositories at the
commits named below, e.g.
    git --git-dir=<google/automl mirror> show HEAD:lion/lion_pytorch.py > /tmp/ref/lit1/lion_pytorch.py
    git --git-dir=<sail-sg/Adan mirror> show HEAD:adan.py > /tmp/ref/lit1/adan.py
    git --git-dir=<juntang-zhuang/Adabelief-Optimizer mirror> \
        show HEAD:pypi_packages/adabelief_pytorch0.2.1/adabelief_pytorch/AdaBelief.py > /tmp/ref/lit1/AdaBelief.py
    git --git-dir=<Z-T-WANG/LaProp-Optimizer mirror> show HEAD:laprop.py > /tmp/ref/lit1/laprop.py
    /usr/bin/python3 tests/Tiny.Tests/data/gen_golden_lit1.py /tmp/ref/lit1 [--out DIR]

References (commit):
    lion       google/automl lion/lion_pytorch.py                      6a54c8741e7c3265d4547c4f35f47a0391122dc5
    adan       sail-sg/Adan adan.py                                    2c65beaf400775753b155da4082c3819fea689b9
    adabelief  juntang-zhuang/Adabelief-Optimizer, pip adabelief_pytorch 0.2.1
               (pypi_packages/adabelief_pytorch0.2.1/adabelief_pytorch/AdaBelief.py)
                                                                       2855178eff6776762793f915ce2c615f776a1e4b
    laprop     Z-T-WANG/LaProp-Optimizer laprop.py                     a419916505bfb5d6a55f6b7b0ae14eb401b3be12

What was changed to run them under Debian's torch 1.13 (nothing in their update code):
  - AdaBelief.py imports `tabulate` (only to print its change log), which this Python lacks: a stand-in module is
    put into sys.modules before the import; every AdaBelief here is built with print_change_log=False, and its
    constructor's other prints go to /dev/null.
  - Adan is built with foreach=False (its single-tensor path, _single_tensor_adan; the default foreach=True takes
    the torch._foreach_* path, which rounds the same ops but is not the path Tiny follows).
  - LaProp uses torch's deprecated overloads add_(Number, Tensor) and addcmul_(Number, Tensor, Tensor); 1.13 still
    takes them (with a deprecation warning, silenced here).
Options in the JSON are the reference's argument names; Adan's three betas are written as beta1, beta2, beta3 (the
golden loader splits only pairs) and joined into `betas` for the reference here.

Deterministic: re-running gives a byte-identical file.
"""

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import types
import warnings

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_golden as G  # noqa: E402  (2-D functions, MLP data and init, helpers, dump)

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)

REF = {}


def load_refs(folder):
    sys.modules.setdefault("tabulate", types.SimpleNamespace(tabulate=lambda *a, **k: ""))   # AdaBelief's log table
    for key, file, cls in [("lion", "lion_pytorch.py", "Lion"), ("adan", "adan.py", "Adan"),
                           ("adabelief", "AdaBelief.py", "AdaBelief"), ("laprop", "laprop.py", "LaProp")]:
        spec = importlib.util.spec_from_file_location("ref_" + key, os.path.join(folder, file))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        REF[key] = getattr(mod, cls)


def make_optimizer(kind, params, options):
    o = dict(options)
    if "betas" in o:
        o["betas"] = tuple(o["betas"])
    if kind == "adan":
        o["betas"] = (o.pop("beta1", 0.98), o.pop("beta2", 0.92), o.pop("beta3", 0.99))
        if isinstance(params, list) and params and isinstance(params[0], dict):
            for g in params:
                if any(k in g for k in ("beta1", "beta2", "beta3")):
                    raise ValueError("per-group Adan betas are not used here")
        return REF["adan"](params, foreach=False, **o)
    if kind == "adabelief":
        with contextlib.redirect_stdout(io.StringIO()):
            return REF["adabelief"](params, print_change_log=False, **o)
    return REF[kind](params, **o)


# gen_golden's runners build optimizers through G.make_optimizer: point it at the references for these four.
_torch_make = G.make_optimizer
G.make_optimizer = lambda kind, params, options: (make_optimizer if kind in REF else _torch_make)(kind, params, options)


def run_mlp_grads(name, kind, options, dtype, steps=100, groups=None):
    """An MLP case with torch's gradient of every step recorded (replayed bit-exactly, only the optimizer runs)."""
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
        grads.append({n: G.flat(P[n].grad) for n in G.MLP_NAMES})   # before the step (Adan scales p.grad in place)
        opt.step()
        traj.append({n: G.flat(P[n]) for n in G.MLP_NAMES})
    case = {"name": name, "optimizer": kind, "options": options, "problem": "mlp",
            "expression": "F.mse_loss(linear(tanh(linear(tanh(linear(x, w1, b1)), w2, b2)), w3, b3), y)",
            "dtype": dtype, "steps": steps, "data": {"x": G.tensor_json(x), "y": G.tensor_json(y)},
            "start": start, "trajectory": traj, "loss": losses, "grads": grads}
    if groups:
        case["groups"] = groups
    return case


def cases():
    C = []
    add = lambda *a, **k: C.append(G.run_2d(*a, **k))
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # Lion (lr 1e-4, betas (0.9, 0.99), weight_decay 0): steps are +-lr per element
        add("lion_rosenbrock" + s, "lion", {"lr": 0.01}, "rosenbrock", dtype)
        add("lion_betas_beale" + s, "lion", {"lr": 0.01, "betas": [0.95, 0.98]}, "beale", dtype)
        add("lion_wd_himmelblau" + s, "lion", {"lr": 0.02, "weight_decay": 0.5}, "himmelblau", dtype)
        add("lion_quadratic" + s, "lion", {"lr": 0.05}, "quadratic", dtype)
        # Adan (lr 1e-3, betas (0.98, 0.92, 0.99), eps 1e-8, weight_decay 0, max_grad_norm 0, no_prox False)
        add("adan_rosenbrock" + s, "adan", {"lr": 0.01}, "rosenbrock", dtype)
        add("adan_betas_eps_beale" + s, "adan", {"lr": 0.02, "beta1": 0.9, "beta2": 0.8, "beta3": 0.95, "eps": 1e-4},
            "beale", dtype)
        add("adan_wd_himmelblau" + s, "adan", {"lr": 0.05, "weight_decay": 0.1}, "himmelblau", dtype)
        add("adan_wd_no_prox_quadratic" + s, "adan", {"lr": 0.05, "weight_decay": 0.2, "no_prox": True}, "quadratic",
            dtype)
        add("adan_max_grad_norm_rosenbrock" + s, "adan", {"lr": 0.01, "max_grad_norm": 5.0}, "rosenbrock", dtype)
        add("adan_max_grad_norm_wd_himmelblau" + s, "adan", {"lr": 0.05, "max_grad_norm": 1.0, "weight_decay": 0.05,
                                                            "no_prox": True}, "himmelblau", dtype)
        # AdaBelief (lr 1e-3, betas (0.9, 0.999), eps 1e-16, weight_decouple, rectify and degenerated_to_sgd on).
        # Rectified: N_sma >= 5 from step 5 with beta2 0.999, from step 7 with beta2 0.8.
        add("adabelief_rosenbrock" + s, "adabelief", {"lr": 0.005}, "rosenbrock", dtype)
        add("adabelief_no_rectify_beale" + s, "adabelief", {"lr": 0.02, "rectify": False, "eps": 1e-8}, "beale", dtype)
        add("adabelief_amsgrad_wd_himmelblau" + s, "adabelief", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1},
            "himmelblau", dtype)
        add("adabelief_fixed_decay_quadratic" + s, "adabelief", {"lr": 0.05, "weight_decay": 0.01, "fixed_decay": True,
                                                                 "betas": [0.8, 0.8]}, "quadratic", dtype)
        add("adabelief_l2_amsgrad_no_rectify_quadratic" + s, "adabelief", {"lr": 0.05, "weight_decay": 0.1,
                                                                           "weight_decouple": False, "amsgrad": True,
                                                                           "rectify": False}, "quadratic", dtype)
        add("adabelief_no_sgd_himmelblau" + s, "adabelief", {"lr": 0.05, "degenerated_to_sgd": False,
                                                             "betas": [0.9, 0.8]}, "himmelblau", dtype)
        # LaProp (lr 4e-4, betas (0.9, 0.999), eps 1e-15, weight_decay 0); centered uses mg from step 11
        add("laprop_rosenbrock" + s, "laprop", {"lr": 0.005}, "rosenbrock", dtype)
        add("laprop_centered_beale" + s, "laprop", {"lr": 0.01, "centered": True, "betas": [0.8, 0.9]}, "beale", dtype)
        add("laprop_amsgrad_wd_himmelblau" + s, "laprop", {"lr": 0.02, "amsgrad": True, "weight_decay": 1e-3},
            "himmelblau", dtype)
        add("laprop_centered_amsgrad_eps_quadratic" + s, "laprop", {"lr": 0.02, "centered": True, "amsgrad": True,
                                                                    "eps": 1e-6, "betas": [0.9, 0.95]}, "quadratic", dtype)
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        add = lambda *a, **k: C.append(G.run_mlp(*a, **k))
        add("mlp_lion" + s, "lion", {"lr": 1e-3, "weight_decay": 0.1}, dtype)
        add("mlp_adan" + s, "adan", {"lr": 0.01, "weight_decay": 0.02}, dtype)
        add("mlp_adabelief" + s, "adabelief", {"lr": 0.01}, dtype)
        add("mlp_adabelief_groups" + s, "adabelief", {"lr": 0.01, "eps": 1e-12}, dtype,
            groups=[{"params": ["w1", "b1"], "options": {"lr": 0.005, "amsgrad": True, "weight_decay": 0.01}},
                    {"params": ["w2", "b2", "w3", "b3"], "options": {}}])
        add("mlp_laprop" + s, "laprop", {"lr": 0.005}, dtype)
        add("mlp_laprop_centered_groups" + s, "laprop", {"lr": 0.005, "centered": True}, dtype,
            groups=[{"params": ["w1", "b1"], "options": {"lr": 0.002, "amsgrad": True}},
                    {"params": ["w2", "b2", "w3", "b3"], "options": {"weight_decay": 1e-3}}])
        C.append(run_mlp_grads("mlp_adan_max_grad_norm_grads" + s, "adan", {"lr": 0.01, "max_grad_norm": 0.5,
                                                                            "no_prox": True, "weight_decay": 0.02}, dtype))
    return C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("refs", help="folder with lion_pytorch.py, adan.py, AdaBelief.py, laprop.py (see the header)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    load_refs(a.refs)
    G.dump(cases(), os.path.join(a.out, "optim_golden_lit1.json"))


if __name__ == "__main__":
    main()
