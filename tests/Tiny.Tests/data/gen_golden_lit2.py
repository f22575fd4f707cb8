#!/usr/bin/python3
"""Writes optim_golden_lit2.json: golden trajectories of ADOPT, AdEMAMix, Grams, C-AdamW and C-Lion from the authors'
reference code itself (issue 15), in gen_golden.py's schema (README.md next to this file): per optimizer, 2-D cases
with the recorded gradients in float64 and float32 (`_f32`), every 2-D function and every option at a non-default
value at least once, one MLP case per dtype (without "grads": replayed with Tiny's autograd), and C-AdamW / C-Lion
MLP cases with torch's gradients recorded (`*_grads`, as gen_alphagrad_mlp_grads.py writes them: the masks' counts
over SIMD lanes, replayed bit-exactly).

The references are not vendored: pass the folder holding the five files, exported from the repositories at the
commits named below, e.g.
    git --git-dir=<iShohei220/adopt mirror> show HEAD:src/adopt/adopt.py > /tmp/ref/lit2/adopt.py
    git --git-dir=<apple/ml-ademamix mirror> show HEAD:pytorch/ademamix.py > /tmp/ref/lit2/ademamix.py
    git --git-dir=<Gunale0926/Grams mirror> show HEAD:grams/src/grams.py > /tmp/ref/lit2/grams.py
    git --git-dir=<kyleliang919/C-Optim mirror> show HEAD:c_adamw.py > /tmp/ref/lit2/c_adamw.py
    git --git-dir=<kyleliang919/C-Optim mirror> show HEAD:c_lion.py > /tmp/ref/lit2/c_lion.py
    /usr/bin/python3 tests/Tiny.Tests/data/gen_golden_lit2.py /tmp/ref/lit2 [--out DIR]

References (commit):
    adopt     iShohei220/adopt src/adopt/adopt.py          6468572b4b3688a2f056b796b071da540568520e
    ademamix  apple/ml-ademamix pytorch/ademamix.py        c3d73c09f1287e5c33b95189bb0aa7de0a5a7667
    grams     Gunale0926/Grams grams/src/grams.py          f91a375daaa85c5a4644e3f064ca6693c59f6cdb
    cadamw    kyleliang919/C-Optim c_adamw.py (AdamW)      2c0517c4db2e50b56d389ba4803eab1f4b3b8ae3
    clion     kyleliang919/C-Optim c_lion.py (Lion)        2c0517c4db2e50b56d389ba4803eab1f4b3b8ae3

What was changed to run them under Debian's torch 1.13 (nothing in their update code; all at import time):
  - adopt.py imports torch 2.x private helpers from torch.optim.optimizer that 1.13 lacks. Before the import, the
    missing names are set on that module: _get_value (torch 2.x's: x.item() for a tensor), _get_scalar_dtype
    (float32 under the float32 default dtype), _default_to_fused_or_foreach (returns (False, False): what torch
    2.x picks for CPU tensors, i.e. the single-tensor path _single_tensor_adopt), _disable_dynamo_if_unsupported
    (a decorator that returns the function), the doc strings and type aliases (unused); torch._utils.is_compiling
    (False). ADOPT is then built with its defaults (foreach=None), which on the CPU take _single_tensor_adopt.
  - c_adamw.py (HEAD) imports torch.distributed.tensor (DTensor), more torch 2.x private helpers, `.opt_utils`
    (a relative import) and decorates its foreach kernel with torch.compile. Stand-ins: a torch.distributed.tensor
    module whose DTensor no tensor is, the missing torch.optim.optimizer names as above (plus _to_scalar), an
    opt_utils module of unused names, torch.compile as the identity; the file is loaded as the module
    coptim.c_adamw. Its AdamW is built with foreach=False (the single-tensor loop; the default foreach=True runs an
    asynchronous torch.compile path) and no_deprecation_warning=True.
  - ademamix.py, grams.py and c_lion.py run unchanged.
Options in the JSON are Tiny's registry keys, translated here into the reference's arguments: ADOPT's clip_exponent
e becomes clip_lambda=lambda step: step**e, no_clip becomes clip_lambda=None; AdEMAMix's three betas are written as
beta1, beta2, beta3 (the golden loader splits only pairs) and joined into `betas`.

Grams mutates p.grad (sign(g)*|m|) inside step(); the recorded gradients are copied before the step.

Deterministic: re-running gives a byte-identical file.
"""

import argparse
import importlib.util
import os
import sys
import types
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_golden as G  # noqa: E402  (2-D functions, MLP data and init, helpers, dump)

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

REF = {}


def _stand_ins():
    """The torch 2.x names adopt.py and c_adamw.py import, set where 1.13 lacks them (see the header)."""
    import torch.optim.optimizer as oo
    missing = {
        "_get_value": lambda x: x.item() if isinstance(x, torch.Tensor) else x,
        "_get_scalar_dtype": lambda is_fused=None: (torch.float64 if torch.get_default_dtype() == torch.float64
                                                    else torch.float32),
        "_default_to_fused_or_foreach": lambda params, differentiable, use_fused=False: (False, False),
        "_disable_dynamo_if_unsupported": lambda single_tensor_fn=None: (lambda f: f),
        "_to_scalar": lambda x: x.item() if isinstance(x, torch.Tensor) else x,
        "_device_dtype_check_for_fused": lambda p, cuda_unsupported=False: None,
        "_get_capturable_supported_devices": lambda supports_xla=True: ["cuda"],
        "_stack_if_compiling": lambda x: x,
        "_view_as_real": lambda *a: None,
        "_capturable_doc": "", "_differentiable_doc": "", "_foreach_doc": "", "_fused_doc": "", "_maximize_doc": "",
        "DeviceDict": dict, "DeviceDtypeDict": dict, "ParamsT": object,
    }
    for k, v in missing.items():
        if not hasattr(oo, k):
            setattr(oo, k, v)
    if not hasattr(torch._utils, "is_compiling"):
        torch._utils.is_compiling = lambda: False
    if not hasattr(torch, "compile"):
        torch.compile = lambda *a, **k: (lambda f: f)
    import torch.distributed as dist
    if not hasattr(dist, "tensor"):
        dt = types.ModuleType("torch.distributed.tensor")

        class DTensor:  # no tensor here is one
            pass

        dt.DTensor, dt.DeviceMesh, dt.distribute_tensor = DTensor, object, None
        sys.modules["torch.distributed.tensor"] = dt
        dist.tensor = dt
    pkg = types.ModuleType("coptim")
    pkg.__path__ = []
    sys.modules["coptim"] = pkg
    ou = types.ModuleType("coptim.opt_utils")
    ou.AsyncTask = ou.AsyncRuntime = ou.to_local = ou.create_param_batches = ou.pad_batch = None
    sys.modules["coptim.opt_utils"] = ou


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_refs(folder):
    _stand_ins()
    REF["adopt"] = _load("ref_adopt", os.path.join(folder, "adopt.py")).ADOPT
    REF["ademamix"] = _load("ref_ademamix", os.path.join(folder, "ademamix.py")).AdEMAMix
    REF["grams"] = _load("ref_grams", os.path.join(folder, "grams.py")).Grams
    REF["cadamw"] = _load("coptim.c_adamw", os.path.join(folder, "c_adamw.py")).AdamW
    REF["clion"] = _load("ref_c_lion", os.path.join(folder, "c_lion.py")).Lion


def make_optimizer(kind, params, options):
    o = dict(options)
    if "betas" in o:
        o["betas"] = tuple(o["betas"])
    if kind == "adopt":
        e = o.pop("clip_exponent", 0.25)
        o["clip_lambda"] = None if o.pop("no_clip", False) else (lambda step: step ** e)
        return REF["adopt"](params, **o)
    if kind == "ademamix":
        o["betas"] = (o.pop("beta1", 0.9), o.pop("beta2", 0.999), o.pop("beta3", 0.9999))
        return REF["ademamix"](params, **o)
    if kind == "cadamw":
        return REF["cadamw"](params, foreach=False, no_deprecation_warning=True, **o)
    if kind in ("grams", "clion"):
        return REF[kind](params, **o)
    raise ValueError(kind)


G.make_optimizer = make_optimizer   # run_2d and run_mlp build through it


def cases():
    C = []
    add = lambda *a, **k: C.append(G.run_2d(*a, **k))
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # ADOPT: both lerp branches (1 - b1 < 0.5 and >= 0.5), the clip schedule, no clipping, L2 and decoupled decay
        add("adopt_rosenbrock" + s, "adopt", {"lr": 0.01}, "rosenbrock", dtype)
        add("adopt_clip_beale" + s, "adopt", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-4, "clip_exponent": 0.5},
            "beale", dtype)
        add("adopt_noclip_wd_himmelblau" + s, "adopt", {"lr": 0.02, "betas": [0.3, 0.999], "no_clip": True,
                                                        "weight_decay": 0.01}, "himmelblau", dtype)
        add("adopt_decouple_quadratic" + s, "adopt", {"lr": 0.05, "weight_decay": 0.1, "decouple": True},
            "quadratic", dtype)
        add("adopt_maximize_quadratic" + s, "adopt", {"lr": 0.001, "maximize": True}, "quadratic", dtype)
        # AdEMAMix: the warmup schedulers, beta1 = 0 (no fast EMA), decay
        add("ademamix_rosenbrock" + s, "ademamix", {"lr": 0.01}, "rosenbrock", dtype)
        add("ademamix_warmup_beale" + s, "ademamix", {"lr": 0.01, "alpha": 5.0, "alpha_warmup": 50,
                                                      "beta3_warmup": 80}, "beale", dtype)
        add("ademamix_wd_himmelblau" + s, "ademamix", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "beta3": 0.999,
                                                       "eps": 1e-6, "weight_decay": 0.01}, "himmelblau", dtype)
        add("ademamix_nofast_quadratic" + s, "ademamix", {"lr": 0.05, "beta1": 0.0, "beta3_warmup": 100},
            "quadratic", dtype)
        # Grams and C-AdamW: the same settings
        for kind in ["grams", "cadamw"]:
            add(kind + "_rosenbrock" + s, kind, {"lr": 0.01}, "rosenbrock", dtype)
            add(kind + "_betas_beale" + s, kind, {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-4}, "beale", dtype)
            add(kind + "_wd_himmelblau" + s, kind, {"lr": 0.02, "weight_decay": 0.01}, "himmelblau", dtype)
            add(kind + "_nobias_quadratic" + s, kind, {"lr": 0.05, "correct_bias": False}, "quadratic", dtype)
        # C-Lion
        add("clion_rosenbrock" + s, "clion", {"lr": 1e-3}, "rosenbrock", dtype)
        add("clion_betas_beale" + s, "clion", {"lr": 1e-3, "betas": [0.9, 0.99]}, "beale", dtype)
        add("clion_wd_himmelblau" + s, "clion", {"lr": 3e-3, "weight_decay": 0.1}, "himmelblau", dtype)
        add("clion_quadratic" + s, "clion", {"lr": 1e-2}, "quadratic", dtype)
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        C.append(G.run_mlp("mlp_adopt" + s, "adopt", {"lr": 0.01}, dtype))
        C.append(G.run_mlp("mlp_ademamix" + s, "ademamix", {"lr": 0.01, "alpha": 5.0, "alpha_warmup": 50,
                                                            "beta3_warmup": 50}, dtype))
        C.append(G.run_mlp("mlp_grams" + s, "grams", {"lr": 0.01}, dtype))
        C.append(G.run_mlp("mlp_cadamw" + s, "cadamw", {"lr": 0.01, "weight_decay": 0.01}, dtype))
        C.append(G.run_mlp("mlp_clion" + s, "clion", {"lr": 1e-3}, dtype))
    # The cautious masks' counting pre-pass over SIMD lanes and their tails, bit-exact: torch's gradients recorded
    import gen_alphagrad_mlp_grads as MG
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        C.append(MG.run_mlp_grads("mlp_cadamw_grads" + s, "cadamw", {"lr": 0.01, "betas": [0.5, 0.99]}, dtype, steps=60))
        C.append(MG.run_mlp_grads("mlp_clion_grads" + s, "clion", {"lr": 3e-3, "betas": [0.5, 0.99]}, dtype, steps=60))
    return C


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("refs", help="folder with adopt.py, ademamix.py, grams.py, c_adamw.py, c_lion.py (see the header)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    load_refs(a.refs)
    G.dump(cases(), os.path.join(a.out, "optim_golden_lit2.json"))


if __name__ == "__main__":
    main()
