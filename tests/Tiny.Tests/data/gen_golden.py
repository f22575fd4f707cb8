#!/usr/bin/python3
"""Writes the PyTorch golden files Tiny's tests compare against (schemas: README.md next to this file).

Run with Debian's torch 1.13:  /usr/bin/python3 tests/Tiny.Tests/data/gen_golden.py [--out DIR]
Deterministic: the only randomness is torch.manual_seed-fixed initial data, which is written into the files.
"""

import argparse
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
DTYPES = {"float64": torch.float64, "float32": torch.float32}


# ----------------------------------------------------------------------------------------------------------
# Optimizers that are not in torch, written with torch in-place ops in the order of OPTIMIZERS.md.
# ----------------------------------------------------------------------------------------------------------
class AdaBound(torch.optim.Optimizer):
    """AdaBound / AMSBound (Luo et al., ICLR 2019), the official Luolc/AdaBound code; adaboundw=True is its
    AdaBoundW class (decoupled decay p <- p - wd*p_old after the update, not scaled by lr)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                 weight_decay=0, amsbound=False, adaboundw=False):
        if not 0.0 <= lr:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if not 0.0 <= eps:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError("Invalid beta parameters: {}".format(betas))
        if not 0.0 <= final_lr:
            raise ValueError("Invalid final learning rate: {}".format(final_lr))
        if not 0.0 <= gamma < 1.0:
            raise ValueError("Invalid gamma parameter: {}".format(gamma))
        defaults = dict(lr=lr, betas=betas, final_lr=final_lr, gamma=gamma, eps=eps,
                        weight_decay=weight_decay, amsbound=amsbound, adaboundw=adaboundw)
        super().__init__(params, defaults)
        self.base_lrs = [group["lr"] for group in self.param_groups]

    @torch.no_grad()
    def step(self):
        for group, base_lr in zip(self.param_groups, self.base_lrs):
            beta1, beta2 = group["betas"]
            wd = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if group["amsbound"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                t = state["step"]
                if wd != 0 and not group["adaboundw"]:
                    grad = grad.add(p, alpha=wd)                       # coupled L2
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)          # m <- b1*m + (1-b1)*g
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v <- b2*v + (1-b2)*g*g
                if group["amsbound"]:
                    torch.max(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
                    denom = state["max_exp_avg_sq"].sqrt().add_(group["eps"])
                else:
                    denom = exp_avg_sq.sqrt().add_(group["eps"])
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                step_size = group["lr"] * math.sqrt(bias_correction2) / bias_correction1
                final_lr = group["final_lr"] * group["lr"] / base_lr
                lower_bound = final_lr * (1 - 1 / (group["gamma"] * t + 1))
                upper_bound = final_lr * (1 + 1 / (group["gamma"] * t))
                step = torch.full_like(denom, step_size)
                step.div_(denom).clamp_(lower_bound, upper_bound).mul_(exp_avg)   # eta*m
                if wd != 0 and group["adaboundw"]:
                    decayed = torch.mul(p, wd)
                    p.add_(-step)
                    p.sub_(decayed)
                else:
                    p.add_(-step)


class AlphaGrad(torch.optim.Optimizer):
    """AlphaGrad (Sane, arXiv 2504.16020): per tensor g <- tanh(alpha*g/(||g||_2+eps)), then SGD's
    weight decay and momentum, as in the author's CleanRL-fork reference class."""

    def __init__(self, params, lr=1e-3, alpha=1.0, eps=1e-8, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, maximize=False):
        if lr < 0.0:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if alpha <= 0.0:
            raise ValueError("Invalid alpha: {}".format(alpha))
        if eps <= 0.0:
            raise ValueError("Invalid eps: {}".format(eps))
        if momentum < 0.0:
            raise ValueError("Invalid momentum value: {}".format(momentum))
        if weight_decay < 0.0:
            raise ValueError("Invalid weight_decay value: {}".format(weight_decay))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            mu, wd = group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad if not group["maximize"] else -p.grad
                norm = g.norm(2)
                g = torch.tanh(group["alpha"] * g / (norm + group["eps"]))
                if wd != 0:
                    g = g.add(p, alpha=wd)
                if mu != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = torch.clone(g).detach()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(mu).add_(g, alpha=1 - group["dampening"])
                    g = g.add(buf, alpha=mu) if group["nesterov"] else buf
                p.add_(g, alpha=-group["lr"])


def make_optimizer(kind, params, options):
    o = dict(options)
    for pair in ("betas", "etas", "step_sizes"):
        if pair in o:
            o[pair] = tuple(o[pair])
    if kind == "sgd":
        return torch.optim.SGD(params, **o)
    if kind == "adam":
        return torch.optim.Adam(params, **o)
    if kind == "adamw":
        return torch.optim.AdamW(params, **o)
    if kind == "adabound":
        return AdaBound(params, **o)
    if kind == "alphagrad":
        return AlphaGrad(params, **o)
    if kind in TORCH_MORE:
        return TORCH_MORE[kind](params, foreach=False, **o)     # the single-tensor path, explicitly
    raise ValueError(kind)


# The further torch.optim optimizers (cases appended after the ones above; semantics: OPTIM_SEMANTICS.md).
TORCH_MORE = {"rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta,
              "adamax": torch.optim.Adamax, "nadam": torch.optim.NAdam, "radam": torch.optim.RAdam,
              "asgd": torch.optim.ASGD, "rprop": torch.optim.Rprop}


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------
def flat(t):
    """Exact float64 values of a tensor, row-major (float32 values widen exactly)."""
    return t.detach().to(torch.float64).reshape(-1).tolist()


def tensor_json(t):
    return {"shape": list(t.shape), "data": flat(t)}


def int_json(t):
    return {"shape": list(t.shape), "data": [int(v) for v in t.reshape(-1).tolist()]}


# ----------------------------------------------------------------------------------------------------------
# (a) optimizer trajectories
# ----------------------------------------------------------------------------------------------------------
# The exact torch expressions (x = p[0], y = p[1]); written into each case as "expression".
FUNCS = {
    "rosenbrock": ("(1 - x)**2 + 100 * (y - x**2)**2", lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2),
    "beale": ("(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2",
              lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2),
    "himmelblau": ("(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
                   lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2),
    "quadratic": ("0.5 * x**2 + 5 * y**2", lambda x, y: 0.5 * x ** 2 + 5 * y ** 2),
}
STARTS = {"rosenbrock": [-1.2, 1.0], "beale": [1.0, 1.5], "himmelblau": [0.5, -1.0], "quadratic": [3.0, -2.0]}


def run_2d(name, kind, options, problem, dtype, steps=120, start=None, scheduler=None):
    dt = DTYPES[dtype]
    expr, f = FUNCS[problem]
    p = torch.tensor(start or STARTS[problem], dtype=dt, requires_grad=True)
    opt = make_optimizer(kind, [p], options)
    sched = scheduler(opt) if scheduler else None
    start_json = {"p": tensor_json(p)}
    traj, losses, grads, lrs, axs = [], [], [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        losses.append(float(loss))
        grads.append({"p": flat(p.grad)})
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched:
            sched.step()
        traj.append({"p": flat(p)})
        if kind == "asgd":
            axs.append({"p": flat(opt.state[p]["ax"])})     # the averaged parameter (state), after step k
        if not all(math.isfinite(v) for v in traj[-1]["p"]):
            raise RuntimeError(f"{name}: diverged")
    case = {"name": name, "optimizer": kind, "options": options, "problem": problem, "expression": expr,
            "dtype": dtype, "steps": steps, "start": start_json, "trajectory": traj, "loss": losses,
            "grads": grads}
    if kind == "asgd":
        case["ax"] = axs
    if sched:
        case["lrs"] = lrs
    return case


def mlp_data():
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(16, 3, generator=g, dtype=torch.float64)
    y = (torch.sin(x[:, :1] * 1.5) + 0.5 * x[:, 1:2] * x[:, 2:3]).to(torch.float64)
    torch.manual_seed(42)
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                              torch.nn.Linear(4, 1))
    names = ["w1", "b1", "w2", "b2", "w3", "b3"]
    init = dict(zip(names, [t.detach().clone() for t in net.parameters()]))  # float32 default init
    return x.float(), y.float(), init                                          # data rounded to float32 too


MLP_X, MLP_Y, MLP_INIT = mlp_data()
MLP_NAMES = ["w1", "b1", "w2", "b2", "w3", "b3"]


def mlp_forward(P, x):
    h = torch.tanh(F.linear(x, P["w1"], P["b1"]))
    h = torch.tanh(F.linear(h, P["w2"], P["b2"]))
    return F.linear(h, P["w3"], P["b3"])


def run_mlp(name, kind, options, dtype, steps=100, groups=None):
    dt = DTYPES[dtype]
    P = {n: MLP_INIT[n].to(dt).clone().requires_grad_(True) for n in MLP_NAMES}
    x, y = MLP_X.to(dt), MLP_Y.to(dt)
    if groups:
        params = [dict({"params": [P[n] for n in g["params"]]}, **g["options"]) for g in groups]
    else:
        params = [P[n] for n in MLP_NAMES]
    opt = make_optimizer(kind, params, options)
    start = {n: tensor_json(P[n]) for n in MLP_NAMES}
    traj, losses, axs = [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(mlp_forward(P, x), y)
        loss.backward()
        losses.append(float(loss))
        opt.step()
        traj.append({n: flat(P[n]) for n in MLP_NAMES})
        if kind == "asgd":
            axs.append({n: flat(opt.state[P[n]]["ax"]) for n in MLP_NAMES})
    case = {"name": name, "optimizer": kind, "options": options, "problem": "mlp",
            "expression": "F.mse_loss(linear(tanh(linear(tanh(linear(x, w1, b1)), w2, b2)), w3, b3), y)",
            "dtype": dtype, "steps": steps, "data": {"x": tensor_json(x), "y": tensor_json(y)},
            "start": start, "trajectory": traj, "loss": losses}
    if kind == "asgd":
        case["ax"] = axs
    if groups:
        case["groups"] = groups
    return case


def optim_cases_2d():
    C = []
    add = lambda *a, **k: C.append(run_2d(*a, **k))
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # SGD: every option
        add("sgd_rosenbrock" + s, "sgd", {"lr": 1e-3}, "rosenbrock", dtype)
        add("sgd_momentum_rosenbrock" + s, "sgd", {"lr": 5e-4, "momentum": 0.9}, "rosenbrock", dtype)
        add("sgd_nesterov_beale" + s, "sgd", {"lr": 2e-3, "momentum": 0.9, "nesterov": True}, "beale", dtype)
        add("sgd_dampening_himmelblau" + s, "sgd", {"lr": 5e-3, "momentum": 0.8, "dampening": 0.3},
            "himmelblau", dtype)
        add("sgd_wd_quadratic" + s, "sgd", {"lr": 0.05, "weight_decay": 0.1}, "quadratic", dtype)
        add("sgd_maximize_quadratic" + s, "sgd", {"lr": 0.005, "momentum": 0.5, "maximize": True}, "quadratic",
            dtype, start=[-0.03, 0.01], steps=60)
        add("sgd_beale" + s, "sgd", {"lr": 1e-2}, "beale", dtype)
        add("sgd_himmelblau" + s, "sgd", {"lr": 5e-3}, "himmelblau", dtype)
        add("sgd_quadratic" + s, "sgd", {"lr": 0.05}, "quadratic", dtype)
        # Adam
        add("adam_rosenbrock" + s, "adam", {"lr": 0.05}, "rosenbrock", dtype)
        add("adam_beale" + s, "adam", {"lr": 0.05}, "beale", dtype)
        add("adam_himmelblau" + s, "adam", {"lr": 0.1}, "himmelblau", dtype)
        add("adam_quadratic" + s, "adam", {"lr": 0.1}, "quadratic", dtype)
        add("adam_wd_quadratic" + s, "adam", {"lr": 0.1, "weight_decay": 0.1}, "quadratic", dtype)
        add("adam_amsgrad_rosenbrock" + s, "adam", {"lr": 0.05, "amsgrad": True}, "rosenbrock", dtype)
        add("adam_maximize_himmelblau" + s, "adam", {"lr": 0.05, "maximize": True, "betas": [0.8, 0.99],
                                                     "eps": 1e-6}, "himmelblau", dtype)
        # AdamW
        add("adamw_rosenbrock" + s, "adamw", {"lr": 0.05}, "rosenbrock", dtype)
        add("adamw_beale" + s, "adamw", {"lr": 0.05, "weight_decay": 0.1}, "beale", dtype)
        add("adamw_himmelblau" + s, "adamw", {"lr": 0.1}, "himmelblau", dtype)
        add("adamw_amsgrad_quadratic" + s, "adamw", {"lr": 0.1, "weight_decay": 0.05, "amsgrad": True},
            "quadratic", dtype)
        # AdaBound
        add("adabound_rosenbrock" + s, "adabound", {"lr": 0.01}, "rosenbrock", dtype)
        add("adabound_beale" + s, "adabound", {"lr": 0.01, "final_lr": 0.05, "gamma": 0.05}, "beale", dtype)
        add("adabound_himmelblau" + s, "adabound", {"lr": 0.05}, "himmelblau", dtype)
        add("adabound_quadratic" + s, "adabound", {"lr": 0.05, "final_lr": 0.02, "gamma": 0.1}, "quadratic",
            dtype)
        add("amsbound_rosenbrock" + s, "adabound", {"lr": 0.01, "amsbound": True, "gamma": 0.01},
            "rosenbrock", dtype)
        add("adabound_wd_quadratic" + s, "adabound", {"lr": 0.05, "weight_decay": 0.1, "gamma": 0.05},
            "quadratic", dtype)
        add("adaboundw_quadratic" + s, "adabound", {"lr": 0.05, "weight_decay": 0.01, "adaboundw": True,
                                                    "gamma": 0.05}, "quadratic", dtype)
        add("amsboundw_himmelblau" + s, "adabound", {"lr": 0.05, "weight_decay": 0.01, "adaboundw": True,
                                                     "amsbound": True, "betas": [0.8, 0.99], "eps": 1e-6},
            "himmelblau", dtype)
        # AlphaGrad
        add("alphagrad_rosenbrock" + s, "alphagrad", {"lr": 2e-3}, "rosenbrock", dtype)
        add("alphagrad_a05_beale" + s, "alphagrad", {"lr": 0.01, "alpha": 0.5}, "beale", dtype)
        add("alphagrad_a2_himmelblau" + s, "alphagrad", {"lr": 0.02, "alpha": 2.0}, "himmelblau", dtype)
        add("alphagrad_quadratic" + s, "alphagrad", {"lr": 0.02}, "quadratic", dtype)
        add("alphagrad_momentum_rosenbrock" + s, "alphagrad", {"lr": 1e-3, "momentum": 0.9}, "rosenbrock",
            dtype)
        add("alphagrad_nesterov_quadratic" + s, "alphagrad", {"lr": 0.01, "momentum": 0.9, "nesterov": True,
                                                              "alpha": 2.0}, "quadratic", dtype)
        add("alphagrad_dampening_wd_beale" + s, "alphagrad", {"lr": 0.01, "momentum": 0.8, "dampening": 0.5,
                                                              "weight_decay": 0.05, "eps": 1e-5}, "beale", dtype)
        add("alphagrad_maximize_himmelblau" + s, "alphagrad", {"lr": 0.02, "maximize": True, "momentum": 0.5},
            "himmelblau", dtype)
    # The further torch.optim optimizers, appended (the cases above stay byte-identical): each on every function,
    # each option non-default at least once. maximize only where torch 1.13 has it (not NAdam, RAdam).
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # RMSprop: both momentum x centered paths
        add("rmsprop_centered_momentum_rosenbrock" + s, "rmsprop", {"lr": 1e-3, "momentum": 0.9, "centered": True},
            "rosenbrock", dtype)
        add("rmsprop_alpha_eps_beale" + s, "rmsprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-3}, "beale", dtype)
        add("rmsprop_wd_maximize_himmelblau" + s, "rmsprop", {"lr": 0.01, "weight_decay": 0.1, "maximize": True},
            "himmelblau", dtype)
        add("rmsprop_quadratic" + s, "rmsprop", {"lr": 0.01}, "quadratic", dtype)
        add("rmsprop_momentum_himmelblau" + s, "rmsprop", {"lr": 0.005, "momentum": 0.5}, "himmelblau", dtype)
        add("rmsprop_centered_wd_quadratic" + s, "rmsprop", {"lr": 0.01, "centered": True, "weight_decay": 0.05},
            "quadratic", dtype)
        # Adagrad
        add("adagrad_rosenbrock" + s, "adagrad", {"lr": 0.05}, "rosenbrock", dtype)
        add("adagrad_lr_decay_beale" + s, "adagrad", {"lr": 0.1, "lr_decay": 0.01}, "beale", dtype)
        add("adagrad_init_acc_eps_himmelblau" + s, "adagrad", {"lr": 0.2, "initial_accumulator_value": 0.1,
                                                               "eps": 1e-3}, "himmelblau", dtype)
        add("adagrad_wd_quadratic" + s, "adagrad", {"lr": 0.2, "weight_decay": 0.1}, "quadratic", dtype)
        add("adagrad_maximize_himmelblau" + s, "adagrad", {"lr": 0.05, "maximize": True}, "himmelblau", dtype)
        # Adadelta (lr default 1.0)
        add("adadelta_rosenbrock" + s, "adadelta", {}, "rosenbrock", dtype)
        add("adadelta_rho_beale" + s, "adadelta", {"rho": 0.5}, "beale", dtype)
        add("adadelta_eps_himmelblau" + s, "adadelta", {"eps": 1e-4}, "himmelblau", dtype)
        add("adadelta_wd_quadratic" + s, "adadelta", {"lr": 2.0, "weight_decay": 0.1, "eps": 1e-4}, "quadratic",
            dtype)
        add("adadelta_maximize_himmelblau" + s, "adadelta", {"lr": 5.0, "maximize": True}, "himmelblau", dtype)
        # Adamax
        add("adamax_rosenbrock" + s, "adamax", {"lr": 0.02}, "rosenbrock", dtype)
        add("adamax_betas_beale" + s, "adamax", {"lr": 0.02, "betas": [0.8, 0.99]}, "beale", dtype)
        add("adamax_wd_maximize_himmelblau" + s, "adamax", {"lr": 0.02, "weight_decay": 0.1, "maximize": True},
            "himmelblau", dtype)
        add("adamax_eps_quadratic" + s, "adamax", {"lr": 0.05, "eps": 1e-3}, "quadratic", dtype)
        # NAdam (mu_product is a float32 0-dim tensor in torch 1.13, also for float64 params)
        add("nadam_rosenbrock" + s, "nadam", {"lr": 0.02}, "rosenbrock", dtype)
        add("nadam_momentum_decay_beale" + s, "nadam", {"lr": 0.02, "momentum_decay": 0.05}, "beale", dtype)
        add("nadam_wd_himmelblau" + s, "nadam", {"lr": 0.05, "weight_decay": 0.1}, "himmelblau", dtype)
        add("nadam_betas_eps_quadratic" + s, "nadam", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-4}, "quadratic",
            dtype)
        # RAdam: rho_t > 5 (rectified) from step 6 with beta2 0.999 / 0.99, from step 8 with beta2 0.75
        add("radam_rosenbrock" + s, "radam", {"lr": 1e-3}, "rosenbrock", dtype)
        add("radam_beale" + s, "radam", {"lr": 2e-3}, "beale", dtype)
        add("radam_wd_himmelblau" + s, "radam", {"lr": 0.01, "weight_decay": 0.1}, "himmelblau", dtype)
        add("radam_betas_eps_quadratic" + s, "radam", {"lr": 0.02, "betas": [0.8, 0.75], "eps": 1e-4}, "quadratic",
            dtype)
    # ASGD and Rprop, appended after all of the above (which stay byte-identical); same rules.
    for dtype in ["float64", "float32"]:
        s = "" if dtype == "float64" else "_f32"
        # ASGD: the trajectory is the SGD iterate; "ax" records the averaged parameter (state['ax']) after each
        # step. Averaging (mu < 1) starts at step t0 + 3: with t0 10 / 20 / 30.5 / 50 inside the 120 steps.
        add("asgd_rosenbrock" + s, "asgd", {"lr": 1e-3}, "rosenbrock", dtype)
        add("asgd_t0_beale" + s, "asgd", {"lr": 1e-2, "t0": 10}, "beale", dtype)
        add("asgd_lambd_alpha_t0_himmelblau" + s, "asgd", {"lr": 5e-3, "lambd": 0.5, "alpha": 0.6, "t0": 50},
            "himmelblau", dtype)
        add("asgd_wd_t0_quadratic" + s, "asgd", {"lr": 0.05, "weight_decay": 0.1, "t0": 30.5}, "quadratic", dtype)
        add("asgd_maximize_t0_himmelblau" + s, "asgd", {"lr": 5e-3, "maximize": True, "t0": 20}, "himmelblau",
            dtype)
        # Rprop: sign flips (etaminus, grad zeroed) in every case; the step_sizes clamp at both ends; the default
        # min 1e-6 is reached in rprop_quadratic and the maximize case
        add("rprop_rosenbrock" + s, "rprop", {}, "rosenbrock", dtype)
        add("rprop_etas_beale" + s, "rprop", {"etas": [0.3, 1.5]}, "beale", dtype)
        add("rprop_step_sizes_himmelblau" + s, "rprop", {"lr": 0.05, "step_sizes": [1e-3, 0.2]}, "himmelblau",
            dtype)
        add("rprop_maximize_himmelblau" + s, "rprop", {"lr": 0.02, "maximize": True}, "himmelblau", dtype)
        add("rprop_quadratic" + s, "rprop", {"lr": 0.1}, "quadratic", dtype)
    return C


def optim_cases_mlp(dtype):
    s = "" if dtype == "float64" else "_f32"
    C = []
    add = lambda *a, **k: C.append(run_mlp(*a, **k))
    add("mlp_sgd" + s, "sgd", {"lr": 0.1}, dtype)
    add("mlp_sgd_nesterov_wd" + s, "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
        dtype)
    add("mlp_adam" + s, "adam", {"lr": 0.01}, dtype)
    add("mlp_adamw_amsgrad" + s, "adamw", {"lr": 0.01, "amsgrad": True}, dtype)
    add("mlp_adabound" + s, "adabound", {"lr": 0.01, "gamma": 0.01}, dtype)
    add("mlp_amsboundw" + s, "adabound", {"lr": 0.01, "amsbound": True, "adaboundw": True,
                                          "weight_decay": 1e-3, "gamma": 0.01}, dtype)
    add("mlp_alphagrad" + s, "alphagrad", {"lr": 0.01, "alpha": 1.0}, dtype)
    add("mlp_alphagrad_momentum" + s, "alphagrad", {"lr": 0.005, "alpha": 2.0, "momentum": 0.9}, dtype)
    add("mlp_sgd_groups" + s, "sgd", {"lr": 0.05, "momentum": 0.9}, dtype,
        groups=[{"params": ["w1", "b1"], "options": {"lr": 0.1, "weight_decay": 0.01}},
                {"params": ["w2", "b2", "w3", "b3"], "options": {}}])
    add("mlp_alphagrad_groups" + s, "alphagrad", {"lr": 0.01, "momentum": 0.9}, dtype,
        groups=[{"params": ["w1", "b1"], "options": {"lr": 0.005, "alpha": 0.5, "weight_decay": 0.01}},
                {"params": ["w2", "b2", "w3", "b3"], "options": {}}])
    # The further torch.optim optimizers, appended
    add("mlp_rmsprop" + s, "rmsprop", {"lr": 0.005}, dtype)
    add("mlp_adagrad" + s, "adagrad", {"lr": 0.05}, dtype)
    add("mlp_adadelta" + s, "adadelta", {}, dtype)
    add("mlp_adamax" + s, "adamax", {"lr": 0.01}, dtype)
    add("mlp_nadam" + s, "nadam", {"lr": 0.01}, dtype)
    add("mlp_radam" + s, "radam", {"lr": 0.01}, dtype)
    add("mlp_rmsprop_groups" + s, "rmsprop", {"lr": 0.005, "alpha": 0.9}, dtype,
        groups=[{"params": ["w1", "b1"], "options": {"lr": 0.01, "momentum": 0.9, "centered": True}},
                {"params": ["w2", "b2", "w3", "b3"], "options": {"weight_decay": 0.01}}])
    add("mlp_nadam_groups" + s, "nadam", {"lr": 0.01}, dtype,
        groups=[{"params": ["w1", "b1"], "options": {"lr": 0.005, "momentum_decay": 0.01, "weight_decay": 0.01}},
                {"params": ["w2", "b2", "w3", "b3"], "options": {"betas": [0.8, 0.99], "eps": 1e-6}}])
    # ASGD and Rprop, appended (averaging from step 23)
    add("mlp_asgd" + s, "asgd", {"lr": 0.1, "t0": 20}, dtype)
    add("mlp_rprop" + s, "rprop", {}, dtype)
    return C


# ----------------------------------------------------------------------------------------------------------
# (b) schedulers and clipping
# ----------------------------------------------------------------------------------------------------------
def sched_golden():
    S = torch.optim.lr_scheduler
    specs = [
        ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 20},
         lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=20)),
        ("StepLR", {"step_size": 7, "gamma": 0.5}, lambda o: S.StepLR(o, step_size=7, gamma=0.5)),
        ("ExponentialLR", {"gamma": 0.9}, lambda o: S.ExponentialLR(o, gamma=0.9)),
        ("CosineAnnealingLR", {"T_max": 10, "eta_min": 1e-4}, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-4)),
        ("LambdaLR", {"lr_lambda": "1/(1+epoch)"}, lambda o: S.LambdaLR(o, lambda e: 1 / (1 + e))),
    ]
    scheds = []
    for name, args, make in specs:
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sch = make(opt)
        lrs = []
        for _ in range(30):
            lrs.append(opt.param_groups[0]["lr"])
            p.grad = torch.zeros(1)
            opt.step()
            sch.step()
        scheds.append({"name": name, "args": args, "optimizer": "sgd", "base_lr": 0.1, "lrs": lrs})

    ada = run_2d("adabound_steplr_quadratic", "adabound", {"lr": 0.01, "final_lr": 0.1, "gamma": 0.1},
                 "quadratic", "float64", steps=40,
                 scheduler=lambda o: S.StepLR(o, step_size=10, gamma=0.5))
    ada["scheduler"] = {"name": "StepLR", "args": {"step_size": 10, "gamma": 0.5}}

    clips = []
    for dtype in ["float64", "float32"]:
        dt = DTYPES[dtype]
        g = torch.Generator().manual_seed(7)
        shapes = [[3, 4], [5], [2, 2]]
        big = [torch.randn(*s, generator=g, dtype=torch.float64).to(dt) for s in shapes]
        small = [(0.05 * torch.randn(*s, generator=g, dtype=torch.float64)).to(dt) for s in shapes]
        for label, grads in [("", big), ("_small", small)]:
            for kind, arg in [("norm", 2.0), ("norm", math.inf), ("value", 0.1)]:
                params = [torch.zeros_like(t, requires_grad=True) for t in grads]
                for p, t in zip(params, grads):
                    p.grad = t.clone()
                c = {"dtype": dtype, "grads": [tensor_json(t) for t in grads]}
                if kind == "norm":
                    total = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=arg)
                    c.update(name=f"clip_grad_norm_{'inf' if arg == math.inf else 'l2'}{label}_{dtype}",
                             fn="clip_grad_norm_", max_norm=1.0, norm_type="inf" if arg == math.inf else 2.0,
                             total_norm=float(total))
                else:
                    torch.nn.utils.clip_grad_value_(params, clip_value=arg)
                    c.update(name=f"clip_grad_value{label}_{dtype}", fn="clip_grad_value_", clip_value=arg)
                c["clipped"] = [tensor_json(p.grad) for p in params]
                clips.append(c)
    return {"schedulers": scheds, "adabound_scheduled": ada, "clip": clips}


# ----------------------------------------------------------------------------------------------------------
# (c) autograd
# ----------------------------------------------------------------------------------------------------------
def autograd_golden():
    cases = []
    gen = torch.Generator().manual_seed(2024)

    def rnd(*shape, scale=1.0, dtype=torch.float64):
        return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64)).to(dtype)

    def case(name, expr, inputs, fn, ints=None, no_grad=(), dtype="float64"):
        ins = {k: v.clone().requires_grad_(k not in no_grad) for k, v in inputs.items()}
        out = fn(**ins, **(ints or {}))
        (out if out.dim() == 0 else out.sum()).backward()
        c = {"name": name, "expression": expr, "dtype": dtype,
             "inputs": {k: tensor_json(v) for k, v in ins.items()},
             "output": tensor_json(out),
             "grads": {k: tensor_json(v.grad) for k, v in ins.items() if v.grad is not None}}
        if ints:
            c["int_inputs"] = {k: int_json(v) for k, v in ints.items()}
        cases.append(c)

    case("softmax_dim1", "torch.softmax(x, dim=1)", {"x": rnd(3, 5)}, lambda x: torch.softmax(x, dim=1))
    case("softmax_dim0", "torch.softmax(x, dim=0)", {"x": rnd(3, 5)}, lambda x: torch.softmax(x, dim=0))
    case("softmax_weighted", "(torch.softmax(x, dim=1) * w).sum()  (w gives a non-trivial gradient)",
         {"x": rnd(3, 5), "w": rnd(3, 5)}, lambda x, w: (torch.softmax(x, dim=1) * w).sum(), no_grad=("w",))
    case("log_softmax_dim1", "torch.log_softmax(x, dim=1)", {"x": rnd(3, 5)}, lambda x: torch.log_softmax(x, dim=1))
    case("log_softmax_last_3d", "torch.log_softmax(x, dim=-1)", {"x": rnd(2, 3, 4)},
         lambda x: torch.log_softmax(x, dim=-1))
    case("logsumexp_dim1", "torch.logsumexp(x, dim=1)", {"x": rnd(4, 6, scale=3.0)},
         lambda x: torch.logsumexp(x, dim=1))
    case("cross_entropy", "F.cross_entropy(x, target)  (mean over batch)", {"x": rnd(4, 5)},
         lambda x, target: F.cross_entropy(x, target), ints={"target": torch.tensor([1, 0, 4, 2])})
    case("cross_entropy_sum", "F.cross_entropy(x, target, reduction='sum')", {"x": rnd(6, 3, scale=2.0)},
         lambda x, target: F.cross_entropy(x, target, reduction="sum"),
         ints={"target": torch.tensor([2, 2, 0, 1, 0, 1])})
    case("nll_loss", "F.nll_loss(x, target)  (mean; x taken as log-probabilities)", {"x": rnd(4, 5)},
         lambda x, target: F.nll_loss(x, target), ints={"target": torch.tensor([3, 1, 1, 0])})
    case("mse_loss", "F.mse_loss(x, y)  (mean)", {"x": rnd(4, 3), "y": rnd(4, 3)}, lambda x, y: F.mse_loss(x, y))
    case("smooth_l1_loss", "F.smooth_l1_loss(x, y, beta=1.0)  (mean; |x-y| on both sides of 1)",
         {"x": rnd(4, 3, scale=1.5), "y": rnd(4, 3)}, lambda x, y: F.smooth_l1_loss(x, y, beta=1.0))
    case("composite_tanh_sigmoid", "(torch.tanh(x @ W.T + b) * torch.sigmoid(x)).mean()",
         {"x": rnd(4, 3), "W": rnd(3, 3), "b": rnd(3)},
         lambda x, W, b: (torch.tanh(x @ W.T + b) * torch.sigmoid(x)).mean())
    case("bmm", "torch.matmul(a, b)  [2,3,4] @ [2,4,5]", {"a": rnd(2, 3, 4), "b": rnd(2, 4, 5)},
         lambda a, b: torch.matmul(a, b))
    case("matmul_2d", "a @ b  [3,4] @ [4,2]", {"a": rnd(3, 4), "b": rnd(4, 2)}, lambda a, b: a @ b)
    case("broadcast_add", "a + b  [3,1,4] + [2,1] -> [3,2,4]", {"a": rnd(3, 1, 4), "b": rnd(2, 1)},
         lambda a, b: a + b)
    case("broadcast_mul", "a * b  [3,1,4] * [2,1] -> [3,2,4]", {"a": rnd(3, 1, 4), "b": rnd(2, 1)},
         lambda a, b: a * b)
    case("broadcast_sub_div", "(a - b) / c  [2,3] - [3] / [2,1]", {"a": rnd(2, 3), "b": rnd(3),
                                                                  "c": rnd(2, 1).abs() + 0.5},
         lambda a, b, c: (a - b) / c)
    case("max_dim1", "torch.max(x, dim=1).values  (no ties)", {"x": rnd(3, 5)}, lambda x: torch.max(x, dim=1).values)
    case("min_dim0", "torch.min(x, dim=0).values  (no ties)", {"x": rnd(3, 5)}, lambda x: torch.min(x, dim=0).values)
    case("amax_keepdim_weighted", "(torch.amax(x, dim=-1, keepdim=True) * w).sum()",
         {"x": rnd(2, 3, 4), "w": rnd(2, 3, 1)}, lambda x, w: (torch.amax(x, dim=-1, keepdim=True) * w).sum(),
         no_grad=("w",))
    case("gather_dim1", "torch.gather(x, 1, index)  (index has a repeat in row 2)", {"x": rnd(3, 5)},
         lambda x, index: torch.gather(x, 1, index), ints={"index": torch.tensor([[0, 4], [2, 2], [3, 1]])})
    case("sum_mean_axes", "x.sum(dim=1) * 2 + x.mean(dim=1)", {"x": rnd(3, 4)},
         lambda x: x.sum(dim=1) * 2 + x.mean(dim=1))
    case("permute_reshape", "(x.permute(2, 0, 1).reshape(4, 6) * w)", {"x": rnd(2, 3, 4), "w": rnd(4, 6)},
         lambda x, w: x.permute(2, 0, 1).reshape(4, 6) * w, no_grad=("w",))
    case("unary_exp_log_sqrt", "torch.exp(x) + torch.log(y) + torch.sqrt(y)", {"x": rnd(2, 3), "y": rnd(2, 3).abs() + 0.1},
         lambda x, y: torch.exp(x) + torch.log(y) + torch.sqrt(y))
    case("unary_tanh_sigmoid_relu", "torch.tanh(x) * 2 + torch.sigmoid(x) + torch.relu(x) * 3  (no zeros)",
         {"x": rnd(3, 4)}, lambda x: torch.tanh(x) * 2 + torch.sigmoid(x) + torch.relu(x) * 3)
    case("pow_neg", "x ** 3 - (-x)", {"x": rnd(5)}, lambda x: x ** 3 - (-x))
    case("where_maximum", "torch.where(x > 0, x * y, torch.maximum(x, y))  (no ties)",
         {"x": rnd(3, 3), "y": rnd(3, 3)}, lambda x, y: torch.where(x > 0, x * y, torch.maximum(x, y)))

    # Linear layer
    torch.manual_seed(3)
    lin = torch.nn.Linear(3, 4).double()
    case("linear", "F.linear(x, weight, bias) = x @ weight.T + bias  (nn.Linear(3, 4) default init, seed 3)",
         {"x": rnd(5, 3), "weight": lin.weight.detach(), "bias": lin.bias.detach()},
         lambda x, weight, bias: F.linear(x, weight, bias))

    # 4-64-64-2 Tanh MLP, MSE, batch 8; torch default init (float32, seed 0), the float64 case widens it.
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                              torch.nn.Linear(64, 2))
    W = dict(zip(["w1", "b1", "w2", "b2", "w3", "b3"], [t.detach().clone() for t in net.parameters()]))
    x32, y32 = rnd(8, 4, dtype=torch.float32), rnd(8, 2, dtype=torch.float32)
    expr = ("F.mse_loss(F.linear(tanh(F.linear(tanh(F.linear(x, w1, b1)), w2, b2)), w3, b3), y)  "
            "(nn.Linear default init under torch.manual_seed(0), float32)")
    fn = lambda x, y, w1, b1, w2, b2, w3, b3: F.mse_loss(
        F.linear(torch.tanh(F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2)), w3, b3), y)
    for dtype in ["float64", "float32"]:
        dt = DTYPES[dtype]
        ins = {"x": x32.to(dt), "y": y32.to(dt)}
        ins.update({k: v.to(dt) for k, v in W.items()})
        case("mlp_4_64_64_2_tanh_mse" + ("" if dtype == "float64" else "_f32"), expr, ins, fn, no_grad=("y",),
             dtype=dtype)
    return cases


def dump(obj, path, limit=2_000_000):
    """Writes obj as compact JSON. A list of cases that would pass `limit` bytes is split, in order, into path and
    path's stem + "_part2.json", "_part3.json"...: every file stays under 2 MiB (the loader reads every
    optim_golden*.json)."""
    parts, current, size = [], [], 2
    for case in (obj if isinstance(obj, list) else [None]):
        n = len(json.dumps(case, separators=(",", ":"), allow_nan=False)) + 1
        if isinstance(obj, list) and current and size + n > limit:
            parts.append(current)
            current, size = [], 2
        current.append(case)
        size += n
    parts.append(current)
    stem, ext = os.path.splitext(path)
    for k, part in enumerate(parts if isinstance(obj, list) else [obj]):
        out = path if k == 0 else f"{stem}_part{k + 1}{ext}"
        with open(out, "w") as f:
            json.dump(part, f, separators=(",", ":"), allow_nan=False)
            f.write("\n")
        size = os.path.getsize(out)
        print(f"{out}: {size / 1e6:.3f} MB")
        if size >= 2 * 1024 * 1024:
            raise RuntimeError(f"{out} is {size} bytes (limit 2 MiB)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    dump(optim_cases_2d(), os.path.join(a.out, "optim_golden.json"))
    dump(optim_cases_mlp("float64"), os.path.join(a.out, "optim_golden_mlp_f64.json"))
    dump(optim_cases_mlp("float32"), os.path.join(a.out, "optim_golden_mlp_f32.json"))
    dump(sched_golden(), os.path.join(a.out, "sched_golden.json"))
    dump(autograd_golden(), os.path.join(a.out, "autograd_golden.json"))


if __name__ == "__main__":
    main()
