#!/usr/bin/python3
"""optim_ref.py -- PyTorch's optimizers on a fixed small problem, for tests/lib/test_optim.c.

Run from the repository root with Debian's PyTorch (`make fixtures` does):
    /usr/bin/python3 tests/ref/optim_ref.py
It writes, deterministically (no randomness, no timestamps):
    tests/ref/optim/problem.tsv    the problem: X, Y, c and the initial W, b
    tests/ref/optim/defaults.tsv   every constructor default of SGD, Adam, AdamW, RMSprop,
                                   Adagrad, NAdam, RAdam, Adamax and Adadelta (maximize
                                   included where the class has it), read from the
                                   installed torch (not typed here)
    tests/ref/optim/NAME.tsv       one optimizer configuration: W and b after steps
                                   1, 2, 3, 5, 10, 25, 50, 75 and 100

The problem (dimension letters N = 5 examples, D = 4 inputs, K = 3 outputs): parameters
W (K, D) and b (K,), both float32 as in a model, and the loss
    L(W, b) = 1/(2N) sum_n |W x_n + b - y_n|^2 + c/4 (sum W^4 + sum b^4)
a least-squares fit plus a quartic term, so the gradient depends on the parameters and
every optimizer's state (momentum, moments, accumulators) is exercised. The gradient is
computed in double from the float32 parameters in a fixed order, then rounded to float32:
    r[n][k]  = ((b[k] + W[k][0] x[n][0]) + W[k][1] x[n][1] + ...) - y[n][k]
    gW[k][d] = (sum_n r[n][k] x[n][d]) / N + ((c W[k][d]) W[k][d]) W[k][d]
    gb[k]    = (sum_n r[n][k]) / N + ((c b[k]) b[k]) b[k]
The C test does the same operations in the same order, so both sides feed the optimizer
bitwise-identical gradients from identical parameters, and any difference comes from the
update rule alone.

Each configuration is a torch.optim constructor call; its header gives the same
configuration in our spec grammar (gd_optim_parse) so the C test builds it from text:
    # spec: adam:lr=0.01:amsgrad=1
optionally per-group specs (torch parameter groups; W is group 0, b group 1):
    # group: W adamw:lr=0.01:weight_decay=0.1
and hyperparameter changes made between steps (every group; "momentum" is beta1 for the
optimizers with betas, as OneCycleLR sets it):
    # change: 50 lr=0.02 momentum=0.5       (after update 50, before update 51)
Numbers are written with 9 significant digits (float32 round-trips exactly) or repr()
for doubles. The single-tensor implementations are used (foreach=False), as the C code
follows them. Fixtures depend on the torch version and its CPU kernels (AVX2 here); both
are in every header.
"""
import inspect
import os
import re
import sys

import torch
from torch.optim.optimizer import required

OUT = os.path.join("tests", "ref", "optim")
STEPS = 100
CHECKPOINTS = [1, 2, 3, 5, 10, 25, 50, 75, 100]

N, D, K = 5, 4, 3
X = [[0.5, -1.2, 0.3, 2.0],
     [1.5, 0.4, -0.7, -0.2],
     [-0.3, 0.9, 1.1, 0.6],
     [0.8, -0.5, -1.4, 1.0],
     [-1.1, 0.2, 0.6, -0.9]]
Y = [[1.0, -0.5, 0.25],
     [-0.75, 1.5, 0.0],
     [0.5, 0.5, -1.0],
     [2.0, -1.25, 0.75],
     [-1.5, 0.0, 1.25]]
C = 0.1
W0 = [[0.9, -1.3, 0.4, 1.7],
      [-0.6, 0.2, -1.8, 0.5],
      [1.2, 0.8, -0.3, -1.1]]
B0 = [0.3, -0.9, 1.4]

CLASSES = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
           "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad,
           "nadam": torch.optim.NAdam, "radam": torch.optim.RAdam, "adamax": torch.optim.Adamax,
           "adadelta": torch.optim.Adadelta}

# name, kind, torch keyword arguments, per-group overrides (None: one group [W, b]),
# changes {after_step: {"lr": .., "momentum": ..}}
CONFIGS = [
    ("sgd", "sgd", dict(lr=0.05), None, {}),
    ("sgd_momentum", "sgd", dict(lr=0.05, momentum=0.9), None, {}),
    ("sgd_dampening", "sgd", dict(lr=0.05, momentum=0.9, dampening=0.5), None, {}),
    ("sgd_nesterov", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True), None, {}),
    ("sgd_weight_decay", "sgd", dict(lr=0.05, weight_decay=0.1), None, {}),
    ("sgd_momentum_weight_decay", "sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.1), None, {}),
    ("sgd_set_lr_momentum", "sgd", dict(lr=0.05, momentum=0.9), None,
     {50: dict(lr=0.02, momentum=0.5)}),
    ("sgd_groups", "sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.1),
     [dict(), dict(lr=0.1, weight_decay=0.0)], {}),
    ("adam", "adam", dict(), None, {}),
    ("adam_lr", "adam", dict(lr=0.01), None, {}),
    ("adam_weight_decay", "adam", dict(lr=0.01, weight_decay=0.1), None, {}),
    ("adam_amsgrad", "adam", dict(lr=0.01, amsgrad=True), None, {}),
    ("adam_betas", "adam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6), None, {}),
    ("adam_set_lr_momentum", "adam", dict(lr=0.01), None, {50: dict(lr=0.003, momentum=0.7)}),
    ("adamw", "adamw", dict(), None, {}),
    ("adamw_weight_decay", "adamw", dict(lr=0.01, weight_decay=0.1), None, {}),
    ("adamw_amsgrad", "adamw", dict(lr=0.01, amsgrad=True), None, {}),
    ("adamw_groups", "adamw", dict(lr=0.01, weight_decay=0.1),
     [dict(), dict(lr=0.05, weight_decay=0.0)], {}),
    ("rmsprop", "rmsprop", dict(), None, {}),
    ("rmsprop_momentum", "rmsprop", dict(lr=1e-3, momentum=0.9), None, {}),
    ("rmsprop_centered", "rmsprop", dict(centered=True), None, {}),
    ("rmsprop_centered_momentum", "rmsprop", dict(lr=1e-3, centered=True, momentum=0.9), None, {}),
    ("rmsprop_weight_decay", "rmsprop", dict(weight_decay=0.1, alpha=0.9), None, {}),
    ("adagrad", "adagrad", dict(), None, {}),
    ("adagrad_lr", "adagrad", dict(lr=0.1), None, {}),
    ("adagrad_lr_decay", "adagrad", dict(lr=0.1, lr_decay=0.01), None, {}),
    ("adagrad_initial_accumulator_value", "adagrad", dict(lr=0.1, initial_accumulator_value=0.1),
     None, {}),
    ("adagrad_weight_decay", "adagrad", dict(lr=0.1, weight_decay=0.1), None, {}),
    # maximize: the gradient negated before weight decay (torch 1.13: SGD, Adam, AdamW,
    # RMSprop, Adagrad, Adamax, Adadelta). The parameters climb the loss; lrs small
    # enough that 100 steps stay finite.
    ("sgd_maximize", "sgd", dict(lr=0.002, momentum=0.5, weight_decay=0.1, maximize=True), None, {}),
    ("adam_maximize", "adam", dict(lr=0.01, weight_decay=0.1, maximize=True), None, {}),
    ("adamw_maximize", "adamw", dict(lr=0.01, weight_decay=0.1, maximize=True), None, {}),
    ("rmsprop_maximize", "rmsprop", dict(lr=1e-3, weight_decay=0.1, maximize=True), None, {}),
    ("adagrad_maximize", "adagrad", dict(lr=0.05, weight_decay=0.1, maximize=True), None, {}),
    # NAdam (no maximize in torch 1.13)
    ("nadam", "nadam", dict(), None, {}),
    ("nadam_lr", "nadam", dict(lr=0.01), None, {}),
    ("nadam_weight_decay", "nadam", dict(lr=0.01, weight_decay=0.1), None, {}),
    ("nadam_betas", "nadam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6, momentum_decay=0.05),
     None, {}),
    ("nadam_set_lr_momentum", "nadam", dict(lr=0.01), None, {50: dict(lr=0.003, momentum=0.7)}),
    ("nadam_groups", "nadam", dict(lr=0.01, weight_decay=0.1),
     [dict(), dict(lr=0.05, weight_decay=0.0)], {}),
    # RAdam (no maximize in torch 1.13): steps 1-5 plain momentum, then rectified
    ("radam", "radam", dict(), None, {}),
    ("radam_lr", "radam", dict(lr=0.01), None, {}),
    ("radam_weight_decay", "radam", dict(lr=0.01, weight_decay=0.1), None, {}),
    ("radam_betas", "radam", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6), None, {}),
    ("radam_set_lr_momentum", "radam", dict(lr=0.01), None, {50: dict(lr=0.003, momentum=0.7)}),
    # Adamax
    ("adamax", "adamax", dict(), None, {}),
    ("adamax_lr", "adamax", dict(lr=0.01), None, {}),
    ("adamax_weight_decay", "adamax", dict(lr=0.01, weight_decay=0.1), None, {}),
    ("adamax_betas", "adamax", dict(lr=0.01, betas=(0.8, 0.95), eps=1e-6), None, {}),
    ("adamax_maximize", "adamax", dict(lr=0.01, weight_decay=0.1, maximize=True), None, {}),
    ("adamax_set_lr_momentum", "adamax", dict(lr=0.01), None, {50: dict(lr=0.003, momentum=0.7)}),
    # Adadelta (its default lr 1 moves W by about 0.3 in 100 steps here). Not rho = 0.5
    # with eps = 1e-4: there the trajectory is so sensitive that rounding once instead of
    # twice (a torch without FMA kernels) moves it by 2e-3 after 100 steps
    ("adadelta", "adadelta", dict(), None, {}),
    ("adadelta_lr", "adadelta", dict(lr=3.0), None, {}),
    ("adadelta_weight_decay", "adadelta", dict(weight_decay=0.1), None, {}),
    ("adadelta_rho", "adadelta", dict(rho=0.8, eps=1e-5), None, {}),
    ("adadelta_maximize", "adadelta", dict(weight_decay=0.1, maximize=True), None, {}),
    ("adadelta_set_lr", "adadelta", dict(), None, {50: dict(lr=0.3)}),
]


def f32(v):
    """A float32 value, 9 significant digits: strtof reads back the same float."""
    return "%.9g" % v


def spec(kind, kwargs):
    """The configuration in gd_optim_parse's grammar."""
    parts = [kind]
    for key, v in kwargs.items():
        if key == "betas":
            parts.append("betas=%r/%r" % (float(v[0]), float(v[1])))
        elif isinstance(v, bool):
            parts.append("%s=%d" % (key, int(v)))
        else:
            parts.append("%s=%r" % (key, float(v)))
    return ":".join(parts)


def gradient(W, b):
    """The loss's gradient in double from the float32 parameters, in the documented order."""
    w = [[float(v) for v in row] for row in W.tolist()]
    bb = [float(v) for v in b.tolist()]
    r = [[0.0] * K for _ in range(N)]
    for n in range(N):
        for k in range(K):
            acc = bb[k]
            for d in range(D):
                acc += w[k][d] * X[n][d]
            r[n][k] = acc - Y[n][k]
    gW = [[0.0] * D for _ in range(K)]
    for k in range(K):
        for d in range(D):
            acc = 0.0
            for n in range(N):
                acc += r[n][k] * X[n][d]
            gW[k][d] = acc / N + C * w[k][d] * w[k][d] * w[k][d]
    gb = []
    for k in range(K):
        acc = 0.0
        for n in range(N):
            acc += r[n][k]
        gb.append(acc / N + C * bb[k] * bb[k] * bb[k])
    return (torch.tensor(gW, dtype=torch.float32), torch.tensor(gb, dtype=torch.float32))


def cpu_capability():
    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return m.group(1) if m else "unknown"


def header(name):
    return ["# %s: written by tests/ref/optim_ref.py with torch %s (CPU kernels %s), float32"
            % (name, torch.__version__, cpu_capability())]


def write(name, lines):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_problem():
    lines = header("problem.tsv")
    lines.append("# L = 1/(2N) sum_n |W x_n + b - y_n|^2 + c/4 (sum W^4 + sum b^4); "
                 "rows: name, shape, values (row-major)")
    lines.append("c\t1\t%r" % C)
    lines.append("X\t%dx%d\t%s" % (N, D, "\t".join(repr(v) for row in X for v in row)))
    lines.append("Y\t%dx%d\t%s" % (N, K, "\t".join(repr(v) for row in Y for v in row)))
    W = torch.tensor(W0, dtype=torch.float32)
    b = torch.tensor(B0, dtype=torch.float32)
    lines.append("W\t%dx%d\t%s" % (K, D, "\t".join(f32(v) for v in W.flatten().tolist())))
    lines.append("b\t%d\t%s" % (K, "\t".join(f32(v) for v in b.tolist())))
    write("problem.tsv", lines)


# constructor arguments that are not hyperparameters of gd_hparams
NOT_HPARAMS = {"self", "params", "foreach", "capturable", "differentiable", "fused"}


def write_defaults():
    lines = header("defaults.tsv")
    lines.append("# every default of each constructor, from inspect.signature; "
                 "'required' = no default")
    lines.append("# kind\tkey\tvalue")
    for kind, cls in CLASSES.items():
        for pname, p in inspect.signature(cls.__init__).parameters.items():
            if pname in NOT_HPARAMS:
                continue
            v = p.default
            if v is required or v is inspect.Parameter.empty:
                lines.append("%s\t%s\trequired" % (kind, pname))
            elif pname == "betas":
                lines.append("%s\tbeta1\t%r" % (kind, float(v[0])))
                lines.append("%s\tbeta2\t%r" % (kind, float(v[1])))
            elif isinstance(v, bool):
                lines.append("%s\t%s\t%d" % (kind, pname, int(v)))
            elif isinstance(v, (int, float)):
                lines.append("%s\t%s\t%r" % (kind, pname, float(v)))
            else:
                sys.exit("optim_ref.py: %s.%s: unexpected default %r" % (cls.__name__, pname, v))
    write("defaults.tsv", lines)


def run(name, kind, kwargs, groups, changes):
    W = torch.tensor(W0, dtype=torch.float32)
    b = torch.tensor(B0, dtype=torch.float32)
    cls = CLASSES[kind]
    lines = header(name + ".tsv")
    call = ", ".join("%s=%r" % kv for kv in kwargs.items())
    if groups is None:
        opt = cls([W, b], foreach=False, **kwargs)
        lines.append("# torch: torch.optim.%s([W, b]%s)" % (cls.__name__, ", " + call if call else ""))
    else:
        opt = cls([dict(params=[W], **groups[0]), dict(params=[b], **groups[1])],
                  foreach=False, **kwargs)
        lines.append("# torch: torch.optim.%s([{W, %s}, {b, %s}], %s)"
                     % (cls.__name__, groups[0], groups[1], call))
    lines.append("# spec: %s" % spec(kind, kwargs))
    if groups is not None:
        for pname, g in zip("Wb", groups):
            lines.append("# group: %s %s" % (pname, spec(kind, {**kwargs, **g})))
    for after, ch in sorted(changes.items()):
        lines.append("# change: %d %s" % (after, " ".join("%s=%r" % kv for kv in ch.items())))
    lines.append("# step\t" + "\t".join(["W[%d,%d]" % (k, d) for k in range(K) for d in range(D)]
                                        + ["b[%d]" % k for k in range(K)]))
    for t in range(1, STEPS + 1):
        W.grad, b.grad = gradient(W, b)
        opt.step()
        if t in changes:
            for g in opt.param_groups:
                for key, v in changes[t].items():
                    if key == "momentum" and "betas" in g:
                        g["betas"] = (v, g["betas"][1])
                    else:
                        g[key] = v
        if t in CHECKPOINTS:
            vals = W.flatten().tolist() + b.tolist()
            if not all(abs(v) < 1e6 for v in vals):
                sys.exit("optim_ref.py: %s diverged at step %d" % (name, t))
            lines.append("%d\t%s" % (t, "\t".join(f32(v) for v in vals)))
    write(name + ".tsv", lines)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    write_problem()
    write_defaults()
    for cfg in CONFIGS:
        run(*cfg)


if __name__ == "__main__":
    main()
