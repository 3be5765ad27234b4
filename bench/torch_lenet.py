#!/usr/bin/env python3
"""torch_lenet.py -- the PyTorch side of bench/lenet.c: the same LeNet training epoch.

One epoch of Fashion-MNIST (60000 images, batch 256, the last batch 96), plain SGD,
cross-entropy, d2l's LeNet (lib/lenet.h; PyTorch's default initialisation), a seeded
shuffle, ONE thread. Each batch is gathered from the uint8 images, divided by 255 and
viewed as (N, 1, 28, 28), as bench/lenet.c does. Prints one line per variant,
"VARIANT CPU_S WALL_S LOSS": the process's CPU seconds and the wall seconds per epoch,
each the best of --reps timings of --epochs epochs (CPU time, because on a shared
machine the wall clock also counts the time other processes held the core), and the
mean training loss of the last epoch; bench/lenet.c reads it.
Leaves out: data loaders, accuracy, anything on the GPU. The data reader is
bench/torch_mlp.py's.

  /usr/bin/python3 bench/torch_lenet.py --data /usr/share/datasets/fashion-mnist --reps 3
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_mlp import read_idx  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("GD_FASHION_MNIST") or
                    "/usr/share/datasets/fashion-mnist",
                    help="Fashion-MNIST directory (default: $GD_FASHION_MNIST, else "
                    "/usr/share/datasets/fashion-mnist)")
    ap.add_argument("--reps", type=int, default=3, help="timings per variant (the best is kept)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per timing")
    ap.add_argument("--variants", default="sigmoid-avg,relu-max",
                    help="comma-separated ACT-POOL (sigmoid or relu, avg or max; default: "
                    "%(default)s)")
    ap.add_argument("--lr", type=float, default=0.1, help="SGD's lr (default: %(default)s)")
    ap.add_argument("--n", type=int, default=0, help="train on the first N images (0: all)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the init and the shuffle")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps: must be >= 1")
    if args.epochs < 1:
        ap.error("--epochs: must be >= 1")
    for v in args.variants.split(","):
        if v not in ("sigmoid-avg", "relu-max", "sigmoid-max", "relu-avg"):
            ap.error(f"--variants: '{v}' is not ACT-POOL (sigmoid|relu)-(avg|max)")

    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)

    try:
        pix, dims = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"), 2051)
        lab, _ = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"), 2049)
    except (OSError, ValueError) as e:
        print(f"torch_lenet.py: {e}", file=sys.stderr)
        return 1
    n, D = dims[0], dims[1] * dims[2]
    X8 = torch.from_numpy(np.frombuffer(pix, dtype=np.uint8).reshape(n, D).copy())
    Y = torch.from_numpy(np.frombuffer(lab, dtype=np.uint8).astype(np.int64))
    if args.n > 0:
        n = min(n, args.n)
    B = 256

    def lenet(act, pool):
        A = nn.ReLU if act == "relu" else nn.Sigmoid
        P = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        return nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), A(), P(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), A(), P(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), A(),
            nn.Linear(120, 84), A(),
            nn.Linear(84, 10))

    for variant in args.variants.split(","):
        act, pool = variant.split("-")
        best, best_wall, last = float("inf"), float("inf"), float("nan")
        for _ in range(args.reps):
            # a fresh model and the same shuffle each time, as bench/lenet.c does
            torch.manual_seed(args.seed)
            model = lenet(act, pool)
            opt = torch.optim.SGD(model.parameters(), lr=args.lr)
            g = torch.Generator().manual_seed(args.seed)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.epochs):
                order = torch.randperm(n, generator=g)
                total = 0.0
                for i in range(0, n, B):
                    idx = order[i:i + B]
                    xb = X8[idx].float().div_(255.0).view(-1, 1, 28, 28)
                    yb = Y[idx]
                    opt.zero_grad()
                    loss = F.cross_entropy(model(xb), yb)
                    loss.backward()
                    opt.step()                          # w = w - lr * grad
                    total += loss.item() * len(idx)
            best = min(best, (time.process_time() - c0) / args.epochs)
            best_wall = min(best_wall, (time.perf_counter() - t0) / args.epochs)
            last = total / n
        print(f"{variant} {best:.6f} {best_wall:.6f} {last:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
