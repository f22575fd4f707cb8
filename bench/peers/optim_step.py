#!/usr/bin/python3
"""PyTorch peer: one optimizer step (gradients fixed, filled once) on 1M and 10M float32 parameters, as one
tensor and split in 10, in microseconds; beside it `p.copy_(q)` over the same parameter bytes as a
memory-bandwidth reference.

SGD/Adam/AdamW/AMSGrad and RMSprop/Adagrad/Adadelta/Adamax/NAdam/RAdam/ASGD/Rprop are torch.optim (single-tensor
path, torch 1.13's default on CPU; the last eight get foreach=False explicitly), the last eight with torch's defaults,
as Tiny's bench. AdaBound, AMSBound and AlphaGrad are written here in their fastest honest torch form: the same math
and rounding as the reference code (tests/Tiny.Tests/data/gen_golden.py), per tensor, in-place ops, no avoidable
temporaries.
One JSON line per figure: {"bench": "optim_step", "peer": "torch", "optimizer", "params", "tensors",
"us_best", "us_median", "min_bytes", "gbps_best", ...}; min_bytes = bytes an ideal fused pass must move.
"""

import argparse
import math

import torch

from common import emit, log, setup, time_us


class AdaBoundFast(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, amsbound=False):
        super().__init__(params, dict(lr=lr, betas=betas, final_lr=final_lr, gamma=gamma, eps=eps,
                                      amsbound=amsbound))
        self.base_lrs = [g["lr"] for g in self.param_groups]

    @torch.no_grad()
    def step(self):
        for group, base_lr in zip(self.param_groups, self.base_lrs):
            b1, b2 = group["betas"]
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["m"] = torch.zeros_like(p)
                    st["v"] = torch.zeros_like(p)
                    if group["amsbound"]:
                        st["vmax"] = torch.zeros_like(p)
                st["step"] += 1
                t = st["step"]
                g, m, v = p.grad, st["m"], st["v"]
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                if group["amsbound"]:
                    torch.max(st["vmax"], v, out=st["vmax"])
                    denom = st["vmax"].sqrt().add_(group["eps"])
                else:
                    denom = v.sqrt().add_(group["eps"])
                step_size = group["lr"] * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                final_lr = group["final_lr"] * group["lr"] / base_lr
                lower = final_lr * (1 - 1 / (group["gamma"] * t + 1))
                upper = final_lr * (1 + 1 / (group["gamma"] * t))
                # step_size / denom in place of full_like(step_size).div_(denom): same rounding, one pass less
                torch.div(torch.tensor(step_size, dtype=p.dtype), denom, out=denom)
                denom.clamp_(lower, upper).mul_(m)
                p.sub_(denom)


class AlphaGradFast(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, alpha=1.0, eps=1e-8, momentum=0.0, dampening=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, dampening=dampening))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            mu = group["momentum"]
            for p in group["params"]:
                g = p.grad
                norm = g.norm(2)
                u = torch.mul(g, group["alpha"])          # alpha*g / (||g|| + eps), then tanh, in one temporary
                u.div_(norm + group["eps"]).tanh_()
                if mu != 0:
                    st = self.state[p]
                    if "buf" not in st:
                        st["buf"] = u
                    else:
                        st["buf"].mul_(mu).add_(u, alpha=1 - group["dampening"])
                    u = st["buf"]
                p.add_(u, alpha=-group["lr"])


# name -> (factory, bytes moved per element by an ideal single fused pass: reads + writes of 4 bytes)
OPTIMIZERS = {
    "sgd": (lambda ps: torch.optim.SGD(ps, lr=1e-3), 3),
    "sgd_momentum": (lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9), 5),
    "adam": (lambda ps: torch.optim.Adam(ps, lr=1e-3), 7),
    "adamw": (lambda ps: torch.optim.AdamW(ps, lr=1e-3), 7),
    "amsgrad": (lambda ps: torch.optim.Adam(ps, lr=1e-3, amsgrad=True), 9),
    "adabound": (lambda ps: AdaBoundFast(ps), 7),
    "amsbound": (lambda ps: AdaBoundFast(ps, amsbound=True), 9),
    "alphagrad": (lambda ps: AlphaGradFast(ps), 4),               # the norm needs its own read of g
    "alphagrad_momentum": (lambda ps: AlphaGradFast(ps, momentum=0.9), 6),
    # torch defaults (RMSprop: no momentum, not centered); single-tensor path
    "rmsprop": (lambda ps: torch.optim.RMSprop(ps, foreach=False), 5),         # p, g, square_avg
    "adagrad": (lambda ps: torch.optim.Adagrad(ps, foreach=False), 5),         # p, g, sum
    "adadelta": (lambda ps: torch.optim.Adadelta(ps, foreach=False), 7),       # p, g, square_avg, acc_delta
    "adamax": (lambda ps: torch.optim.Adamax(ps, foreach=False), 7),           # p, g, exp_avg, exp_inf
    "nadam": (lambda ps: torch.optim.NAdam(ps, foreach=False), 7),             # p, g, exp_avg, exp_avg_sq
    "radam": (lambda ps: torch.optim.RAdam(ps, foreach=False), 7),             # p, g, exp_avg, exp_avg_sq
    # default t0 = 1e6: mu = 1, so ax is a copy of p (written, not read): p, g -> p, ax
    "asgd": (lambda ps: torch.optim.ASGD(ps, foreach=False), 4),
    # p, g, prev, step_size (fixed grads: every element takes the etaplus branch after step 1, step size clamps at 50)
    "rprop": (lambda ps: torch.optim.Rprop(ps, foreach=False), 7),
}
# Steps before timing. RAdam's first 5 steps (default betas) take the cheap unrectified branch (rho_t <= 5);
# 5 warm-up steps make every timed step a rectified one.
WARMUP = {"radam": 5}


def _lit1_references():
    """Issue 15's Lion, Adan, AdaBelief and LaProp: the authors' reference code itself, with its defaults, imported
    from the folder $TINY_REF_LIT1 (the four files tests/Tiny.Tests/data/gen_golden_lit1.py names, exported from the
    repositories at the commits it lists). Adan runs its default foreach=True path (_multi_tensor_adan, the faster
    of its two CPU paths). Skipped, with a message, when the folder is not given."""
    import contextlib, importlib.util, io, os, sys, types
    folder = os.environ.get("TINY_REF_LIT1")
    if not folder:
        log("optim_step: TINY_REF_LIT1 not set: lion, adan, adabelief, laprop (reference code) skipped")
        return {}
    sys.modules.setdefault("tabulate", types.SimpleNamespace(tabulate=lambda *a, **k: ""))   # AdaBelief's log table
    ref = {}
    for key, file, cls in [("lion", "lion_pytorch.py", "Lion"), ("adan", "adan.py", "Adan"),
                           ("adabelief", "AdaBelief.py", "AdaBelief"), ("laprop", "laprop.py", "LaProp")]:
        spec = importlib.util.spec_from_file_location("ref_" + key, os.path.join(folder, file))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        ref[key] = getattr(mod, cls)

    def adabelief(ps):
        with contextlib.redirect_stdout(io.StringIO()):
            return ref["adabelief"](ps, print_change_log=False)
    return {
        "lion": (lambda ps: ref["lion"](ps), 5),                   # p, g, exp_avg
        "adan": (lambda ps: ref["adan"](ps), 11),                  # p, g, exp_avg, exp_avg_sq, exp_avg_diff, neg_pre_grad
        "adabelief": (adabelief, 7),                               # p, g, exp_avg, exp_avg_var
        "laprop": (lambda ps: ref["laprop"](ps), 7),               # p, g, exp_avg, exp_avg_sq
    }


OPTIMIZERS.update(_lit1_references())
WARMUP["adabelief"] = 6   # rectified (N_sma >= 5) from step 6 with beta2 0.999: every timed step takes that branch


def _lit2_references():
    """Issue 15's ADOPT, AdEMAMix, Grams, C-AdamW and C-Lion: the authors' reference code itself, with its defaults,
    imported from the folder $TINY_REF_LIT2 (the five files tests/Tiny.Tests/data/gen_golden_lit2.py names, exported
    from the repositories at the commits it lists), under the same torch 1.13 stand-ins as that generator (torch 2.x
    helpers ADOPT and C-AdamW import; ADOPT then takes its single-tensor path on the CPU, C-AdamW is built with
    foreach=False). Skipped, with a message, when the folder is not given."""
    import importlib.util, os, sys, types
    folder = os.environ.get("TINY_REF_LIT2")
    if not folder:
        log("optim_step: TINY_REF_LIT2 not set: adopt, ademamix, grams, cadamw, clion (reference code) skipped")
        return {}
    import torch.optim.optimizer as oo
    stand_ins = {
        "_get_value": lambda x: x.item() if isinstance(x, torch.Tensor) else x,
        "_get_scalar_dtype": lambda is_fused=None: torch.float32,
        "_default_to_fused_or_foreach": lambda params, differentiable, use_fused=False: (False, False),
        "_disable_dynamo_if_unsupported": lambda single_tensor_fn=None: (lambda f: f),
        "_to_scalar": lambda x: x, "_device_dtype_check_for_fused": None, "_get_capturable_supported_devices": None,
        "_stack_if_compiling": None, "_view_as_real": None, "_capturable_doc": "", "_differentiable_doc": "",
        "_foreach_doc": "", "_fused_doc": "", "_maximize_doc": "", "DeviceDict": dict, "DeviceDtypeDict": dict,
        "ParamsT": object,
    }
    for k, v in stand_ins.items():
        if not hasattr(oo, k):
            setattr(oo, k, v)
    if not hasattr(torch._utils, "is_compiling"):
        torch._utils.is_compiling = lambda: False
    if not hasattr(torch, "compile"):
        torch.compile = lambda *a, **k: (lambda f: f)
    import torch.distributed as dist
    if not hasattr(dist, "tensor"):
        dt = types.ModuleType("torch.distributed.tensor")
        dt.DTensor = type("DTensor", (), {})
        dt.DeviceMesh, dt.distribute_tensor = object, None
        sys.modules["torch.distributed.tensor"] = dist.tensor = dt
    pkg = types.ModuleType("coptim")
    pkg.__path__ = []
    ou = types.ModuleType("coptim.opt_utils")
    ou.AsyncTask = ou.AsyncRuntime = ou.to_local = ou.create_param_batches = ou.pad_batch = None
    sys.modules.update({"coptim": pkg, "coptim.opt_utils": ou})
    ref = {}
    for key, name, file, cls in [("adopt", "ref_adopt", "adopt.py", "ADOPT"), ("ademamix", "ref_ademamix", "ademamix.py", "AdEMAMix"),
                                 ("grams", "ref_grams", "grams.py", "Grams"), ("cadamw", "coptim.c_adamw", "c_adamw.py", "AdamW"),
                                 ("clion", "ref_c_lion", "c_lion.py", "Lion")]:
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, file))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        ref[key] = getattr(mod, cls)
    return {
        "adopt": (lambda ps: ref["adopt"](ps, foreach=False), 7),           # p, g, exp_avg, exp_avg_sq
        "ademamix": (lambda ps: ref["ademamix"](ps), 9),                    # p, g, exp_avg_fast, exp_avg_slow, exp_avg_sq
        "grams": (lambda ps: ref["grams"](ps), 7),                          # p, g, exp_avg, exp_avg_sq
        # the mask's mean needs this step's m first: a counting read of g, m, then the update pass
        "cadamw": (lambda ps: ref["cadamw"](ps, foreach=False, no_deprecation_warning=True), 9),
        "clion": (lambda ps: ref["clion"](ps), 7),                          # count: g, m; update: p, g, exp_avg
    }


OPTIMIZERS.update(_lit2_references())


def _lit3_references():
    """Issue 15's Schedule-Free AdamW / SGD and Lookahead: the authors' reference code itself, with its defaults,
    imported from the folder $TINY_REF_LIT3 (adamw_schedulefree.py, sgd_schedulefree.py and lookahead_pytorch.py,
    exported from the repositories at the commits tests/Tiny.Tests/data/gen_golden_lit3.py lists). The schedule-free
    ones are built with foreach=False (their foreach path needs torch._foreach_lerp_, absent in 1.13) and put in train
    mode; AdamWScheduleFree divides p.grad in place each step, as it does in training. lookahead_adam is Lookahead
    around torch.optim.Adam with k=5, alpha=0.5 (one synchronisation pass every 5 steps: 4 more floats per element
    then). Skipped, with a message, when the folder is not given."""
    import importlib.util, os
    folder = os.environ.get("TINY_REF_LIT3")
    if not folder:
        log("optim_step: TINY_REF_LIT3 not set: schedulefree-adamw, schedulefree-sgd, lookahead_adam (reference code) skipped")
        return {}
    ref = {}
    for key, file, cls in [("adamw", "adamw_schedulefree.py", "AdamWScheduleFree"),
                           ("sgd", "sgd_schedulefree.py", "SGDScheduleFree"), ("lookahead", "lookahead_pytorch.py", "Lookahead")]:
        spec = importlib.util.spec_from_file_location("ref_" + key, os.path.join(folder, file))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        ref[key] = getattr(mod, cls)

    def train_mode(opt):
        opt.train()
        return opt
    return {
        "schedulefree-adamw": (lambda ps: train_mode(ref["adamw"](ps, foreach=False)), 7),   # p, g, z, exp_avg_sq
        "schedulefree-sgd": (lambda ps: train_mode(ref["sgd"](ps, foreach=False)), 5),       # p, g, z
        "lookahead_adam": (lambda ps: ref["lookahead"](torch.optim.Adam(ps, lr=1e-3), la_steps=5, la_alpha=0.5), 7.8),
    }


OPTIMIZERS.update(_lit3_references())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--tensors", default="1,10")
    ap.add_argument("--only", default="", help="comma list of optimizers (default all)")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.4, help="target time of one pass")
    a = ap.parse_args()
    meta = setup(a.threads)
    names = [n for n in OPTIMIZERS if not a.only or n in a.only.split(",")]
    for n_params in map(int, a.sizes.split(",")):
        for n_tensors in map(int, a.tensors.split(",")):
            torch.manual_seed(0)
            chunk = n_params // n_tensors
            sizes = [chunk] * (n_tensors - 1) + [n_params - chunk * (n_tensors - 1)]
            reps = max(3, int(a.seconds / (n_params * 2e-9 * 4)))   # ~2 ns/element/pass guess, ~4 passes
            src = [torch.randn(s) for s in sizes]
            dst = [torch.empty(s) for s in sizes]

            def copy():
                for d, s in zip(dst, src):
                    d.copy_(s)
            best, med = time_us(copy, reps, passes=a.passes)
            emit(meta, bench="optim_step", optimizer="copy_", params=n_params, tensors=n_tensors,
                 us_best=round(best, 1), us_median=round(med, 1), min_bytes=8 * n_params,
                 gbps_best=round(8 * n_params / best / 1e3, 2), reps=reps)
            del src, dst
            for name in names:
                make, per_elem = OPTIMIZERS[name]
                ps = [torch.randn(s).requires_grad_() for s in sizes]
                for p in ps:
                    p.grad = torch.randn(p.shape) * 1e-2
                opt = make(ps)
                best, med = time_us(opt.step, reps, warmup=WARMUP.get(name, 2), passes=a.passes)
                nbytes = 4 * per_elem * n_params
                emit(meta, bench="optim_step", optimizer=name, params=n_params, tensors=n_tensors,
                     us_best=round(best, 1), us_median=round(med, 1), min_bytes=nbytes,
                     gbps_best=round(nbytes / best / 1e3, 2), reps=reps)
                del opt, ps


if __name__ == "__main__":
    main()
