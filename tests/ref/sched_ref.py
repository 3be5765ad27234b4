#!/usr/bin/python3
"""sched_ref.py -- PyTorch's learning-rate schedulers step by step, for tests/lib/test_sched.c.

Run from the repository root with Debian's PyTorch (`make fixtures` does):
    /usr/bin/python3 tests/ref/sched_ref.py
It writes, deterministically (no randomness, no timestamps), one small table per
configuration, tests/ref/sched/NAME.tsv:

    # NAME.tsv: written by tests/ref/sched_ref.py with torch 1.13.0a0 (Debian python3-torch 1.13.1+dfsg-4)
    # torch: CosineAnnealingLR(optimizer, T_max=10, eta_min=0.001)
    # spec: cosine:T=10:min=0.001           the same schedule in our grammar (sched.h)
    # base_lr: 0.1                          the optimizer's lr (one per parameter group)
    # agree: 0 10                           steps where ours must agree (default: every row)
    # differs: ...                          why ours deliberately differs outside them
    # momentum_agree: 5 24                  chains: the steps where ours cycles momentum
    step	lr	momentum

Row t holds param_groups[g]['lr'] (and 'momentum' where the scheduler cycles it) after t
calls of scheduler.step(), t = 0 being the value at construction: exactly what
gd_sched_lr(s, t, base_lr) promises. The schedulers are stepped the way a training loop
does (optimizer.step() then scheduler.step(), never step(epoch)), so where PyTorch has a
recursive get_lr() that is what these numbers come from, not _get_closed_form_lr(). The
range of every configuration covers its edges: step 0, the last step, every milestone
and restart, and past the end (T_max, total_iters, total_steps) where that is allowed.

ReduceLROnPlateau is driven by a fixed metric sequence; its rows are
    step	metric	lr	[lr1]
the lr of each group after scheduler.step(metric) number `step` (step 0: before any).
Several groups test that min_lr and eps act on each group's own lr.

Numbers are written with repr() (shortest string that reads back as the same double).
The dummy optimizer is SGD with momentum on a single zero parameter that never gets a
gradient; schedulers only read and write its param_groups.
"""
import math
import os
import subprocess
import warnings

import torch
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")  # step-order and deprecation warnings: irrelevant here

OUT = os.path.join("tests", "ref", "sched")
BASE = 0.1


def optimizer(lrs, momentum=0.9):
    """SGD with one parameter group per lr (each group its own zero parameter)."""
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)


def fmt(x):
    return repr(float(x))


def debian_version():
    """The Debian package's version (torch.__version__ says 1.13.0a0 for 1.13.1+dfsg)."""
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


DEBIAN = debian_version()


def write(name, torch_call, spec, base_lrs, cols, rows, agree=None, differs=None, momentum_agree=None):
    path = os.path.join(OUT, name + ".tsv")
    with open(path, "w") as f:
        f.write(f"# {name}.tsv: written by tests/ref/sched_ref.py with torch {torch.__version__}"
                + (f" (Debian python3-torch {DEBIAN})" if DEBIAN else "") + "\n")
        f.write(f"# torch: {torch_call}\n")
        f.write(f"# spec: {spec}\n")
        f.write("# base_lr: " + " ".join(fmt(b) for b in base_lrs) + "\n")
        if agree is not None:
            f.write(f"# agree: {agree[0]} {agree[1]}\n")
        if differs:
            f.write(f"# differs: {differs}\n")
        if momentum_agree is not None:
            f.write(f"# momentum_agree: {momentum_agree[0]} {momentum_agree[1]}\n")
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[0]) if i == 0 else fmt(v) for i, v in enumerate(r)) + "\n")


def run(name, make, torch_call, spec, last, momentum=False, base=BASE, agree=None, differs=None,
        momentum_agree=None):
    """Step a scheduler from t = 0 to t = last (inclusive) and write lr (and momentum)."""
    opt = optimizer([base])
    sched = make(opt)
    rows = []
    for t in range(last + 1):
        g = opt.param_groups[0]
        rows.append((t, g["lr"], g["momentum"]) if momentum else (t, g["lr"]))
        if t < last:
            opt.step()
            sched.step()
    cols = ["step", "lr", "momentum"] if momentum else ["step", "lr"]
    write(name, torch_call, spec, [base], cols, rows, agree, differs, momentum_agree)


def cases():
    # ConstantLR: factor until total_iters, then base -- ours is two terms.
    run("constant", lambda o: S.ConstantLR(o, factor=0.5, total_iters=4),
        "ConstantLR(optimizer, factor=0.5, total_iters=4)",
        "constant:factor=0.5:T=4,constant", 10)
    run("constant_defaults", lambda o: S.ConstantLR(o),
        "ConstantLR(optimizer)  # factor=1/3, total_iters=5",
        "constant:factor=0.3333333333333333:T=5,constant", 10)

    # StepLR
    run("step", lambda o: S.StepLR(o, step_size=3, gamma=0.5),
        "StepLR(optimizer, step_size=3, gamma=0.5)", "step:size=3:gamma=0.5", 13)
    run("step_30", lambda o: S.StepLR(o, step_size=30),
        "StepLR(optimizer, step_size=30)  # gamma=0.1", "step:size=30", 100)
    run("step_1", lambda o: S.StepLR(o, step_size=1, gamma=0.9),
        "StepLR(optimizer, step_size=1, gamma=0.9)", "step:size=1:gamma=0.9", 20)

    # MultiStepLR: milestones including adjacent ones and step 1
    run("multistep", lambda o: S.MultiStepLR(o, milestones=[1, 4, 5, 9], gamma=0.5),
        "MultiStepLR(optimizer, milestones=[1, 4, 5, 9], gamma=0.5)",
        "multistep:milestones=1/4/5/9:gamma=0.5", 12)
    run("multistep_30_60_90", lambda o: S.MultiStepLR(o, milestones=[30, 60, 90]),
        "MultiStepLR(optimizer, milestones=[30, 60, 90])  # gamma=0.1",
        "multistep:milestones=30/60/90", 100)

    # ExponentialLR, and its staircase form (StepLR is exactly that)
    run("exp", lambda o: S.ExponentialLR(o, gamma=0.9),
        "ExponentialLR(optimizer, gamma=0.9)", "exp:gamma=0.9", 60)
    run("exp_grow", lambda o: S.ExponentialLR(o, gamma=1.1),
        "ExponentialLR(optimizer, gamma=1.1)  # an LR range test grows the lr",
        "exp:gamma=1.1", 40)
    run("exp_staircase", lambda o: S.StepLR(o, step_size=4, gamma=0.8),
        "StepLR(optimizer, step_size=4, gamma=0.8)  # = staircase exponential decay",
        "exp:gamma=0.8:every=4", 20)

    # LinearLR (recursive get_lr) over and past total_iters
    run("linear_defaults", lambda o: S.LinearLR(o),
        "LinearLR(optimizer)  # start_factor=1/3, end_factor=1, total_iters=5",
        "linear:T=5:start=0.3333333333333333:end=1", 10)
    run("linear_decay", lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=10),
        "LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=10)",
        "linear:T=10:start=1:end=0", 15)
    run("linear_partial", lambda o: S.LinearLR(o, start_factor=0.8, end_factor=0.05, total_iters=7),
        "LinearLR(optimizer, start_factor=0.8, end_factor=0.05, total_iters=7)",
        "linear:T=7:start=0.8:end=0.05", 12)

    # PolynomialLR (no minimum in torch 1.13: ours with min=0)
    run("poly", lambda o: S.PolynomialLR(o, total_iters=10, power=1.0),
        "PolynomialLR(optimizer, total_iters=10, power=1.0)", "poly:T=10:power=1", 15)
    run("poly_2", lambda o: S.PolynomialLR(o, total_iters=8, power=2.0),
        "PolynomialLR(optimizer, total_iters=8, power=2.0)", "poly:T=8:power=2", 12)
    run("poly_half", lambda o: S.PolynomialLR(o, total_iters=20, power=0.5),
        "PolynomialLR(optimizer, total_iters=20, power=0.5)", "poly:T=20:power=0.5", 25)

    # CosineAnnealingLR: to 3.5 T_max, through the special branch at T_max + 1 and
    # 3 T_max + 1. We agree up to T_max and hold the floor after it.
    why = "past T_max PyTorch's recursive cosine rises again (period 2 T_max); ours holds min"
    run("cosine", lambda o: S.CosineAnnealingLR(o, T_max=10),
        "CosineAnnealingLR(optimizer, T_max=10)  # eta_min=0", "cosine:T=10", 35,
        agree=(0, 10), differs=why)
    run("cosine_min", lambda o: S.CosineAnnealingLR(o, T_max=100, eta_min=1e-3),
        "CosineAnnealingLR(optimizer, T_max=100, eta_min=1e-3)", "cosine:T=100:min=0.001", 250,
        agree=(0, 100), differs=why)
    run("cosine_T1", lambda o: S.CosineAnnealingLR(o, T_max=1, eta_min=0.01),
        "CosineAnnealingLR(optimizer, T_max=1, eta_min=0.01)", "cosine:T=1:min=0.01", 6,
        agree=(0, 1), differs=why)

    # CosineAnnealingWarmRestarts: restarts at 5, 10, 15 / 3, 9, 21, 45 / 1, 4, 13, 40
    run("restarts", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5),
        "CosineAnnealingWarmRestarts(optimizer, T_0=5)  # T_mult=1, eta_min=0",
        "restarts:T0=5", 21)
    run("restarts_mult2", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
        "CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2, eta_min=1e-3)",
        "restarts:T0=3:mult=2:min=0.001", 50)
    run("restarts_T1_mult3", lambda o: S.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3),
        "CosineAnnealingWarmRestarts(optimizer, T_0=1, T_mult=3)", "restarts:T0=1:mult=3", 45)

    # CyclicLR: max_lr is the optimizer's lr in ours; momentum cycled (SGD momentum)
    run("cyclic", lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=BASE, step_size_up=4),
        f"CyclicLR(optimizer, base_lr=0.01, max_lr={BASE}, step_size_up=4)  # triangular, momentum 0.8..0.9",
        "cyclic:min=0.01:up=4", 30, momentum=True)
    run("cyclic_triangular2", lambda o: S.CyclicLR(o, base_lr=0.001, max_lr=BASE, step_size_up=3,
                                                   step_size_down=5, mode="triangular2"),
        f"CyclicLR(optimizer, base_lr=0.001, max_lr={BASE}, step_size_up=3, step_size_down=5, mode='triangular2')",
        "cyclic:min=0.001:up=3:down=5:mode=triangular2", 40, momentum=True)
    run("cyclic_exp_range", lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=BASE, step_size_up=4,
                                                 mode="exp_range", gamma=0.95,
                                                 base_momentum=0.85, max_momentum=0.95),
        f"CyclicLR(optimizer, base_lr=0.01, max_lr={BASE}, step_size_up=4, mode='exp_range', gamma=0.95, "
        "base_momentum=0.85, max_momentum=0.95)",
        "cyclic:min=0.01:up=4:mode=exp_range:gamma=0.95:momentum=0.85/0.95", 40, momentum=True)
    run("cyclic_up5_down2", lambda o: S.CyclicLR(o, base_lr=0.02, max_lr=BASE, step_size_up=5,
                                                 step_size_down=2, cycle_momentum=False),
        f"CyclicLR(optimizer, base_lr=0.02, max_lr={BASE}, step_size_up=5, step_size_down=2, cycle_momentum=False)",
        "cyclic:min=0.02:up=5:down=2:cycle_momentum=0", 22)

    # OneCycleLR: PyTorch allows t = total_steps (one step past the end) and extrapolates
    # the last phase there (pct > 1); we hold the final value.
    why = ("at t = total_steps PyTorch extrapolates its last phase (pct > 1) and raises after; "
           "ours holds min_lr and max momentum from total_steps - 1 on")
    run("onecycle", lambda o: S.OneCycleLR(o, max_lr=BASE, total_steps=100),
        f"OneCycleLR(optimizer, max_lr={BASE}, total_steps=100)  # pct_start=0.3, cos, div 25, final 1e4",
        "onecycle:T=100", 100, momentum=True, agree=(0, 99), differs=why)
    run("onecycle_linear", lambda o: S.OneCycleLR(o, max_lr=BASE, total_steps=20, anneal_strategy="linear"),
        f"OneCycleLR(optimizer, max_lr={BASE}, total_steps=20, anneal_strategy='linear')",
        "onecycle:T=20:anneal=linear", 20, momentum=True, agree=(0, 19), differs=why)
    run("onecycle_three_phase", lambda o: S.OneCycleLR(o, max_lr=BASE, total_steps=50, pct_start=0.25,
                                                       three_phase=True, div_factor=10.0,
                                                       final_div_factor=100.0),
        f"OneCycleLR(optimizer, max_lr={BASE}, total_steps=50, pct_start=0.25, three_phase=True, "
        "div_factor=10.0, final_div_factor=100.0)",
        "onecycle:T=50:pct=0.25:div=10:final_div=100:three_phase=1", 50, momentum=True,
        agree=(0, 49), differs=why)
    run("onecycle_three_phase_linear", lambda o: S.OneCycleLR(o, max_lr=BASE, total_steps=30, pct_start=0.4,
                                                              three_phase=True, anneal_strategy="linear",
                                                              base_momentum=0.8, max_momentum=0.9),
        f"OneCycleLR(optimizer, max_lr={BASE}, total_steps=30, pct_start=0.4, three_phase=True, "
        "anneal_strategy='linear', base_momentum=0.8, max_momentum=0.9)",
        "onecycle:T=30:pct=0.4:anneal=linear:three_phase=1:momentum=0.8/0.9", 30, momentum=True,
        agree=(0, 29), differs=why)
    run("onecycle_no_momentum", lambda o: S.OneCycleLR(o, max_lr=BASE, total_steps=17, pct_start=0.5,
                                                       cycle_momentum=False),
        f"OneCycleLR(optimizer, max_lr={BASE}, total_steps=17, pct_start=0.5, cycle_momentum=False)",
        "onecycle:T=17:pct=0.5:cycle_momentum=0", 17, agree=(0, 16), differs=why)

    # Warmup kinds. Linear from S > 0 is LinearLR; constant is ConstantLR; linear from 0
    # (our default; LinearLR's recursive form divides by start_factor) and exponential
    # warmup are LambdaLR with the formula.
    run("warmup_linear", lambda o: S.LinearLR(o, start_factor=0.1, total_iters=5),
        "LinearLR(optimizer, start_factor=0.1, total_iters=5)", "warmup:T=5:start=0.1", 8)
    run("warmup_linear_zero", lambda o: S.LambdaLR(o, lambda t: min(t, 8) / 8),
        "LambdaLR(optimizer, lambda t: min(t, 8) / 8)", "warmup:T=8", 10)
    run("warmup_constant", lambda o: S.ConstantLR(o, factor=0.1, total_iters=3),
        "ConstantLR(optimizer, factor=0.1, total_iters=3)", "warmup:T=3:kind=constant", 6)
    run("warmup_exp", lambda o: S.LambdaLR(o, lambda t: 0.01 ** (1 - min(t, 6) / 6)),
        "LambdaLR(optimizer, lambda t: 0.01 ** (1 - min(t, 6) / 6))", "warmup:T=6:kind=exp", 9)

    # SequentialLR: our comma-chained terms (each term's t restarts at its start)
    run("seq_warmup_cosine", lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                          S.CosineAnnealingLR(o, T_max=20, eta_min=1e-3)],
                                                      milestones=[5]),
        "SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.1, total_iters=5), "
        "CosineAnnealingLR(optimizer, T_max=20, eta_min=1e-3)], milestones=[5])",
        "warmup:T=5:start=0.1,cosine:T=20:min=0.001", 25)
    run("seq_constant_exp", lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.1, total_iters=2),
                                                         S.ExponentialLR(o, gamma=0.9)], milestones=[2]),
        "SequentialLR(optimizer, [ConstantLR(optimizer, factor=0.1, total_iters=2), "
        "ExponentialLR(optimizer, gamma=0.9)], milestones=[2])",
        "constant:factor=0.1:T=2,exp:gamma=0.9", 12)
    run("seq_cosine_cut_exp", lambda o: S.SequentialLR(o, [S.CosineAnnealingLR(o, T_max=20),
                                                           S.ExponentialLR(o, gamma=0.9)], milestones=[10]),
        "SequentialLR(optimizer, [CosineAnnealingLR(optimizer, T_max=20), "
        "ExponentialLR(optimizer, gamma=0.9)], milestones=[10])  # @ cuts the cosine short",
        "cosine:T=20,@10:exp:gamma=0.9", 20)
    run("seq_step_at_multistep", lambda o: S.SequentialLR(o, [S.StepLR(o, step_size=4, gamma=0.5),
                                                              S.MultiStepLR(o, milestones=[3, 6], gamma=0.2)],
                                                          milestones=[10]),
        "SequentialLR(optimizer, [StepLR(optimizer, step_size=4, gamma=0.5), "
        "MultiStepLR(optimizer, milestones=[3, 6], gamma=0.2)], milestones=[10])",
        "step:size=4:gamma=0.5,@10:multistep:milestones=3/6:gamma=0.2", 20)
    # warmup-stable-decay with a linear or cosine decay: three PyTorch schedulers
    run("seq_wsd_linear", lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, total_iters=5),
                                                       S.ConstantLR(o, factor=1.0, total_iters=15),
                                                       S.LinearLR(o, start_factor=1.0, end_factor=0.0,
                                                                  total_iters=5)],
                                                   milestones=[5, 20]),
        "SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.2, total_iters=5), "
        "ConstantLR(optimizer, factor=1.0, total_iters=15), "
        "LinearLR(optimizer, start_factor=1.0, end_factor=0.0, total_iters=5)], milestones=[5, 20])",
        "warmup:T=5:start=0.2,wsd:T=20:decay=0.25", 28)
    run("seq_wsd_cosine", lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.5, total_iters=4),
                                                       S.ConstantLR(o, factor=1.0, total_iters=12),
                                                       S.CosineAnnealingLR(o, T_max=4, eta_min=1e-3)],
                                                   milestones=[4, 16]),
        "SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.5, total_iters=4), "
        "ConstantLR(optimizer, factor=1.0, total_iters=12), "
        "CosineAnnealingLR(optimizer, T_max=4, eta_min=1e-3)], milestones=[4, 16])",
        "warmup:T=4:start=0.5,wsd:T=16:decay=0.25:shape=cosine:min=0.001", 20)
    # 1-sqrt cooldown (Hagele et al. 2024) and inverse square root (Vaswani et al. 2017):
    # LambdaLR with the papers' formulas
    run("wsd_sqrt", lambda o: S.LambdaLR(o, lambda t: 1.0 if t < 16 else 1 - math.sqrt(min(t - 16, 4) / 4)),
        "LambdaLR(optimizer, lambda t: 1 if t < 16 else 1 - sqrt(min(t - 16, 4) / 4))",
        "wsd:T=20:shape=sqrt", 24)
    run("invsqrt_vaswani", lambda o: S.LambdaLR(o, lambda t: min(t / 10, math.sqrt(10 / t)) if t > 0 else 0.0),
        "LambdaLR(optimizer, lambda t: min(t / 10, sqrt(10 / t)))  # Vaswani et al. with warmup 10",
        "warmup:T=10,invsqrt:T0=10", 60)


def chain_base_cases():
    """SequentialLR around OneCycleLR and CyclicLR: which base lr each scheduler uses.

    A scheduler's base_lrs are each group's 'initial_lr' when it is constructed
    (group.setdefault('initial_lr', group['lr']); the schedulers of a SequentialLR are
    constructed in the list's order, before it). OneCycleLR's constructor overwrites
    'initial_lr' with max_lr / div_factor (and stores 'max_lr', 'min_lr' and its momenta
    in the group), so every scheduler constructed after it takes max_lr / div_factor as
    its base; CyclicLR sets the group's lr to its base_lr first, so when it is the first
    scheduler constructed that is everybody's 'initial_lr'. SequentialLR then resets every
    group's lr to 'initial_lr' and re-runs the first scheduler's initial step: the
    chainable (recursive) schedulers go on from that lr, CosineAnnealingWarmRestarts,
    CyclicLR and LambdaLR from their own base_lrs. At each milestone the next scheduler
    gets step(0), its closed form from its base_lrs. lib/sched.h states the same rule.
    Momentum is compared only where ours cycles it (momentum_agree): elsewhere ours
    leaves it to the optimizer, while OneCycleLR and CyclicLR set it at construction.
    """
    one = f"OneCycleLR(optimizer, max_lr={BASE}, total_steps="
    # the case: the step schedule after a one-cycle starts from max_lr / 25
    run("seq_onecycle_step", lambda o: S.SequentialLR(o, [S.OneCycleLR(o, max_lr=BASE, total_steps=50),
                                                          S.StepLR(o, step_size=1000)], milestones=[50]),
        f"SequentialLR(optimizer, [{one}50), StepLR(optimizer, step_size=1000)], milestones=[50])",
        "onecycle:T=50,@50:step:size=1000", 60, momentum=True, momentum_agree=(0, 49))
    run("seq_onecycle_constant", lambda o: S.SequentialLR(o, [S.OneCycleLR(o, max_lr=BASE, total_steps=20,
                                                                           div_factor=10.0),
                                                              S.ConstantLR(o, factor=0.5, total_iters=5)],
                                                          milestones=[20]),
        f"SequentialLR(optimizer, [{one}20, div_factor=10.0), ConstantLR(optimizer, factor=0.5, total_iters=5)], "
        "milestones=[20])", "onecycle:T=20:div=10,constant:factor=0.5:T=5,constant", 30, momentum=True,
        momentum_agree=(0, 19))
    run("seq_onecycle_cosine", lambda o: S.SequentialLR(o, [S.OneCycleLR(o, max_lr=BASE, total_steps=20,
                                                                         anneal_strategy="linear"),
                                                            S.CosineAnnealingLR(o, T_max=15, eta_min=1e-4)],
                                                        milestones=[20]),
        f"SequentialLR(optimizer, [{one}20, anneal_strategy='linear'), "
        "CosineAnnealingLR(optimizer, T_max=15, eta_min=1e-4)], milestones=[20])",
        "onecycle:T=20:anneal=linear,cosine:T=15:min=0.0001", 35, momentum=True, momentum_agree=(0, 19))
    # a term before the one-cycle: SequentialLR restarts it from initial_lr = max_lr / 25,
    # so the warmup climbs to where the one-cycle starts
    run("seq_warmup_onecycle", lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                            S.OneCycleLR(o, max_lr=BASE, total_steps=20)],
                                                        milestones=[5]),
        f"SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.1, total_iters=5), {one}20)], milestones=[5])",
        "warmup:T=5:start=0.1,onecycle:T=20", 24, momentum=True, momentum_agree=(5, 24))
    # a one-cycle inside a chain: warmup, one-cycle, cosine
    run("seq_warmup_onecycle_cosine",
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=4),
                                     S.OneCycleLR(o, max_lr=BASE, total_steps=16, pct_start=0.25),
                                     S.CosineAnnealingLR(o, T_max=10)], milestones=[4, 20]),
        f"SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.25, total_iters=4), "
        f"{one}16, pct_start=0.25), CosineAnnealingLR(optimizer, T_max=10)], milestones=[4, 20])",
        "warmup:T=4:start=0.25,onecycle:T=16:pct=0.25,cosine:T=10", 30, momentum=True, momentum_agree=(4, 19))
    # the middle term was constructed before the one-cycle: its base is the optimizer's lr;
    # the first one is restarted from max_lr / 25
    run("seq_constant_cosine_onecycle",
        lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=3), S.CosineAnnealingLR(o, T_max=6),
                                     S.OneCycleLR(o, max_lr=BASE, total_steps=10)], milestones=[3, 9]),
        f"SequentialLR(optimizer, [ConstantLR(optimizer, factor=0.5, total_iters=3), "
        f"CosineAnnealingLR(optimizer, T_max=6), {one}10)], milestones=[3, 9])",
        "constant:factor=0.5:T=3,cosine:T=6,onecycle:T=10", 18, momentum=True, momentum_agree=(9, 18))
    # CosineAnnealingWarmRestarts reads its base_lrs, not the group's lr: not restarted
    run("seq_restarts_onecycle", lambda o: S.SequentialLR(o, [S.CosineAnnealingWarmRestarts(o, T_0=5),
                                                              S.OneCycleLR(o, max_lr=BASE, total_steps=20)],
                                                          milestones=[12]),
        f"SequentialLR(optimizer, [CosineAnnealingWarmRestarts(optimizer, T_0=5), {one}20)], milestones=[12])",
        "restarts:T0=5,@12:onecycle:T=20", 31, momentum=True, momentum_agree=(12, 31))
    # two one-cycles (with the same div, final_div and momenta: ours refuses others, as
    # PyTorch's first would use the second's, which overwrote them in the group)
    run("seq_two_onecycles", lambda o: S.SequentialLR(o, [S.OneCycleLR(o, max_lr=BASE, total_steps=10),
                                                          S.OneCycleLR(o, max_lr=BASE, total_steps=20, pct_start=0.25,
                                                                       three_phase=True)], milestones=[10]),
        f"SequentialLR(optimizer, [{one}10), {one}20, pct_start=0.25, three_phase=True)], milestones=[10])",
        "onecycle:T=10,onecycle:T=20:pct=0.25:three_phase=1", 29, momentum=True)
    # a cyclic first: its base_lr (our min) becomes the next scheduler's base
    run("seq_cyclic_cosine", lambda o: S.SequentialLR(o, [S.CyclicLR(o, base_lr=0.01, max_lr=BASE, step_size_up=4),
                                                          S.CosineAnnealingLR(o, T_max=10, eta_min=1e-3)],
                                                      milestones=[20]),
        f"SequentialLR(optimizer, [CyclicLR(optimizer, base_lr=0.01, max_lr={BASE}, step_size_up=4), "
        "CosineAnnealingLR(optimizer, T_max=10, eta_min=1e-3)], milestones=[20])",
        "cyclic:min=0.01:up=4,@20:cosine:T=10:min=0.001", 30, momentum=True, momentum_agree=(0, 19))


def plateau(name, kwargs, spec, metrics, base_lrs=(BASE,)):
    opt = optimizer(list(base_lrs))
    sched = S.ReduceLROnPlateau(opt, **kwargs)
    rows = [(0, float("nan")) + tuple(g["lr"] for g in opt.param_groups)]
    for i, m in enumerate(metrics, 1):
        sched.step(m)
        rows.append((i, m) + tuple(g["lr"] for g in opt.param_groups))
    cols = ["step", "metric", "lr"] + [f"lr{g}" for g in range(1, len(base_lrs))]
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    write(name, f"ReduceLROnPlateau(optimizer, {args})", spec, base_lrs, cols, rows)


def plateau_cases():
    # min mode, relative threshold: improvements smaller than 1e-4 relative do not count
    flat = [1.0, 0.9, 0.8, 0.79995, 0.79994, 0.79993, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7,
            0.69, 0.69, 0.69, 0.69, 0.69]
    plateau("plateau_min_rel", dict(mode="min", factor=0.5, patience=2), "plateau:factor=0.5:patience=2",
            flat)
    plateau("plateau_defaults", {}, "plateau", [1.0] + [1.0] * 25 + [0.5] + [0.6] * 12)
    # min mode, absolute threshold and cooldown
    seq = [5.0, 4.0, 3.95, 3.92, 3.5, 3.45, 3.44, 3.43, 3.42, 3.41, 2.0, 1.95, 1.9, 1.9, 1.9,
           1.9, 1.9, 1.9, 1.9, 1.9]
    plateau("plateau_min_abs_cooldown", dict(mode="min", factor=0.2, patience=1, threshold=0.1,
                                             threshold_mode="abs", cooldown=2),
            "plateau:factor=0.2:patience=1:threshold=0.1:threshold_mode=abs:cooldown=2", seq)
    # max mode (an accuracy), relative and absolute thresholds
    acc = [0.5, 0.6, 0.65, 0.66, 0.661, 0.6615, 0.66, 0.7, 0.7, 0.7001, 0.69, 0.71, 0.7101,
           0.7102, 0.7103, 0.7, 0.7, 0.7]
    plateau("plateau_max_rel", dict(mode="max", factor=0.5, patience=1, threshold=0.01),
            "plateau:mode=max:factor=0.5:patience=1:threshold=0.01", acc)
    plateau("plateau_max_abs", dict(mode="max", factor=0.3, patience=0, threshold=0.005,
                                    threshold_mode="abs", cooldown=1),
            "plateau:mode=max:factor=0.3:patience=0:threshold=0.005:threshold_mode=abs:cooldown=1", acc)
    # min_lr per group: group 1 starts below min_lr and never moves; group 0 stops at it
    plateau("plateau_min_lr", dict(factor=0.5, patience=0, min_lr=0.02), "plateau:factor=0.5:patience=0:min_lr=0.02",
            [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 2.0, 2.0, 2.0], base_lrs=(BASE, 0.03, 0.01))
    # eps: a reduction smaller than eps is skipped, and then every later one is too
    plateau("plateau_eps", dict(factor=0.5, patience=0, eps=0.01), "plateau:factor=0.5:patience=0:eps=0.01",
            [1.0] * 8, base_lrs=(BASE, 0.5))
    # exactly at the edges: a change of exactly eps is skipped (old - new > eps), and a
    # metric exactly threshold below best is no improvement (strict <, >)
    plateau("plateau_eps_equal", dict(factor=0.5, patience=0, eps=0.025), "plateau:factor=0.5:patience=0:eps=0.025",
            [1.0] * 9, base_lrs=(BASE, 1.0))
    plateau("plateau_abs_boundary", dict(factor=0.5, patience=1, threshold=0.25, threshold_mode="abs"),
            "plateau:factor=0.5:patience=1:threshold=0.25:threshold_mode=abs",
            [1.0, 0.75, 0.75, 0.5, 0.25, 0.0, 0.0, -0.25, -0.5, -0.5, -0.5])
    plateau("plateau_max_abs_boundary", dict(mode="max", factor=0.5, patience=0, threshold=0.5,
                                             threshold_mode="abs"),
            "plateau:mode=max:factor=0.5:patience=0:threshold=0.5:threshold_mode=abs",
            [0.0, 0.5, 1.0, 1.5, 1.75, 2.5, 3.0])
    # a NaN metric is never an improvement
    plateau("plateau_nan", dict(factor=0.1, patience=1), "plateau:patience=1",
            [1.0, float("nan"), float("nan"), 0.5, float("nan"), float("nan"), 0.4, 0.3])


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    cases()
    chain_base_cases()
    plateau_cases()
