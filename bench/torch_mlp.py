#!/usr/bin/env python3
"""torch_mlp.py -- the PyTorch side of `make bench`: the same training as bench/mlp.c.

One epoch of Fashion-MNIST (60000 images, batch 128, the last batch 96), plain SGD with
lr 0.1, cross-entropy, nn.Linear's default initialisation, a seeded shuffle, ONE thread.
Each batch is gathered from the uint8 images and divided by 255, as bench/mlp.c does.
Prints one line per net, "NET SECONDS_PER_EPOCH" (best of --reps timings of --epochs
epochs each), for bench/mlp.c to read.
Leaves out: data loaders, accuracy, anything on the GPU.

  /usr/bin/python3 bench/torch_mlp.py --data /usr/share/datasets/fashion-mnist --reps 3
"""
import argparse
import gzip
import os
import sys
import time


def read_idx(path, magic):
    opener = gzip.open if path.endswith(".gz") else open
    if not os.path.exists(path) and path.endswith(".gz") and os.path.exists(path[:-3]):
        path, opener = path[:-3], open
    with opener(path, "rb") as f:
        raw = f.read()
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise ValueError(f"{path}: magic {got}, expected {magic}")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return raw[4 + 4 * ndim:], dims


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("GD_FASHION_MNIST") or
                    "/usr/share/datasets/fashion-mnist",
                    help="Fashion-MNIST directory (default: $GD_FASHION_MNIST, else "
                    "/usr/share/datasets/fashion-mnist)")
    ap.add_argument("--reps", type=int, default=3, help="timings per net (the best is kept)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs per timing")
    ap.add_argument("--nets", default="784-256-128-10,784-32-10",
                    help="comma-separated layer sizes, e.g. 784-32-10 (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the init and the shuffle")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps: must be >= 1")
    if args.epochs < 1:
        ap.error("--epochs: must be >= 1")

    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)

    try:
        pix, dims = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"), 2051)
        lab, _ = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"), 2049)
    except (OSError, ValueError) as e:
        print(f"torch_mlp.py: {e}", file=sys.stderr)
        return 1
    n, D = dims[0], dims[1] * dims[2]
    X8 = torch.from_numpy(np.frombuffer(pix, dtype=np.uint8).reshape(n, D).copy())
    Y = torch.from_numpy(np.frombuffer(lab, dtype=np.uint8).astype(np.int64))
    B = 128

    def make_model(sizes):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    for net in args.nets.split(","):
        sizes = [int(s) for s in net.split("-")]
        best = float("inf")
        for _ in range(args.reps):
            # a fresh model and the same shuffle each time, as bench/mlp.c does
            torch.manual_seed(args.seed)
            model = make_model(sizes)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            g = torch.Generator().manual_seed(args.seed)
            t0 = time.perf_counter()
            for _ in range(args.epochs):
                order = torch.randperm(n, generator=g)
                for i in range(0, n, B):
                    idx = order[i:i + B]
                    xb = X8[idx].float().div_(255.0)   # X (N, D) = pixels / 255
                    yb = Y[idx]
                    opt.zero_grad()
                    loss = F.cross_entropy(model(xb), yb)
                    loss.backward()
                    opt.step()                          # w = w - lr * grad
            best = min(best, (time.perf_counter() - t0) / args.epochs)
        print(f"{net} {best:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
