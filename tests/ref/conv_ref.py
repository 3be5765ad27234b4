#!/usr/bin/python3
"""conv_ref.py -- PyTorch's Conv2d, AvgPool2d, MaxPool2d, Sigmoid and d2l's LeNet, for
tests/lib/test_conv.c.

Run from the repository root with Debian's PyTorch (`make fixtures` does):
    /usr/bin/python3 tests/ref/conv_ref.py
It writes, deterministically (a fixed torch.Generator seed, no timestamps):
    tests/ref/conv/conv2d_s1_p0.tsv   F.conv2d, stride 1, no padding, 3x3 kernel
    tests/ref/conv/conv2d_s1_p2.tsv   stride 1, padding 2, 5x5 kernel (LeNet's first layer)
    tests/ref/conv/conv2d_s2_p0.tsv   stride 2, no padding, 3x2 kernel, odd sizes (floor)
    tests/ref/conv/conv2d_s2_p1.tsv   stride 2, padding 1, 2x3 kernel
        each: x (N, C, H, W), w (O, C, KH, KW), b (O), dout; out, dx, dw, db, and a
        row "geom": N, C, H, W, O, KH, KW, stride, pad
    tests/ref/conv/avgpool_k2s2.tsv, avgpool_k3s2.tsv   F.avg_pool2d: x, dout; out, dx
    tests/ref/conv/maxpool_k2s2.tsv, maxpool_k3s2.tsv   F.max_pool2d: x, dout; out, dx,
        and idx (return_indices: the offset of the max in its H x W plane)
        each with a row "geom": N, C, H, W, K, S
    tests/ref/conv/sigmoid.tsv        torch.sigmoid on 41 points in [-20, 20]: out, dx
    tests/ref/conv/lenet_sigmoid_avg.tsv, lenet_relu_max.tsv   d2l's LeNet (lenet.h) at
        the lattice parameters below, X (N, 1, 28, 28) uniform in [0, 1], labels y; the
        mean cross-entropy loss, the logits, and every parameter's gradient
        ("grad.0.weight"), written with 10 significant digits (relative 1e-10, far
        below the tests' tolerance) to keep the files near 1 MB

LeNet's parameters are not in the file (61706 numbers): parameter p (named_parameters()
order, from 0) element i is
    k = (i * 2654435761 + 12345 * (p + 1)) mod 2^24,   value = (k / 2^23 - 1) * 2^-e
with e = 2 for the layer with fan_in 25 (the first conv), 3 for fan_in 84 and 120, 4 for
150 and 400: uniform-looking values on a lattice in [-2^-e, 2^-e) (near PyTorch's
default bounds 1/sqrt(fan_in)), each exactly a float32, computed exactly in double by
both this script and the C test (lattice_param in tests/lib/test_conv.c).

Each backward is driven by a fixed random upstream gradient dout (the C tests fold the
layer's output into sum(out * dout) the same way), except LeNet's loss, whose gradient
is 1. Format and reference arithmetic as tests/ref/gpt_ref.py (whose helpers this script
imports): float32 inputs, outputs computed by torch in float64 from them, and each
file's header records torch's own float32 error on the same outputs.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_ref import cpu_capability, row, worst_err  # noqa: E402

OUT = os.path.join("tests", "ref", "conv")
GEN = torch.Generator().manual_seed(20241201)


def randn(*shape, std=1.0):
    return (torch.randn(*shape, generator=GEN, dtype=torch.float32) * std).float()


def write(name, what, inputs, fn, digits=17):
    """fn(dtype, inputs) -> dict of outputs; run in float64 (written) and float32 (the
    yardstick in the header)."""
    ref = fn(torch.float64, inputs)
    f32 = fn(torch.float32, inputs)
    floats = {k: v for k, v in ref.items() if v.dtype.is_floating_point}
    lines = ["# %s: written by tests/ref/conv_ref.py with torch %s (CPU kernels %s)"
             % (name, torch.__version__, cpu_capability()),
             "# " + what,
             "# outputs computed in float64 from the float32 inputs; torch float32 error "
             "(worst array, |a - r| / max|r|): %.3g"
             % worst_err(floats, {k: f32[k] for k in floats}),
             "# rows: name, shape, values (row-major)"]
    for k, v in inputs.items():
        lines.append(row(k, v, 9))
    for k, v in ref.items():
        lines.append(row(k, v, digits))
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def leaf(t, dtype):
    return t.to(dtype).clone().requires_grad_(True)


def conv(name, N, C, H, W, O, KH, KW, stride, pad):
    inputs = {"geom": torch.tensor([N, C, H, W, O, KH, KW, stride, pad], dtype=torch.int64),
              "x": randn(N, C, H, W), "w": randn(O, C, KH, KW, std=0.5), "b": randn(O, std=0.5)}
    OH, OW = (H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1
    inputs["dout"] = randn(N, O, OH, OW)

    def fn(dtype, i):
        x, w, b = leaf(i["x"], dtype), leaf(i["w"], dtype), leaf(i["b"], dtype)
        out = F.conv2d(x, w, b, stride=stride, padding=pad)
        out.backward(i["dout"].to(dtype))
        return {"out": out, "dx": x.grad, "dw": w.grad, "db": b.grad}
    write(name, "F.conv2d(x, w, b, stride=%d, padding=%d), N = %d, C = %d, H = %d, W = %d, "
          "O = %d, kernel %dx%d; backward from dout" % (stride, pad, N, C, H, W, O, KH, KW),
          inputs, fn)


def pool(name, kind, N, C, H, W, K, S):
    OH, OW = (H - K) // S + 1, (W - K) // S + 1
    inputs = {"geom": torch.tensor([N, C, H, W, K, S], dtype=torch.int64),
              "x": randn(N, C, H, W), "dout": randn(N, C, OH, OW)}

    def fn(dtype, i):
        x = leaf(i["x"], dtype)
        if kind == "max":
            out, idx = F.max_pool2d(x, K, S, return_indices=True)
        else:
            out, idx = F.avg_pool2d(x, K, S), None
        out.backward(i["dout"].to(dtype))
        res = {"out": out, "dx": x.grad}
        if idx is not None:
            res["idx"] = idx
        return res
    write(name, "F.%s_pool2d(x, kernel_size=%d, stride=%d), N = %d, C = %d, H = %d, W = %d; "
          "backward from dout" % (kind, K, S, N, C, H, W), inputs, fn)


def sigmoid():
    n = 41
    x = torch.linspace(-20.0, 20.0, n, dtype=torch.float32) + randn(n, std=0.05)
    inputs = {"x": x.float(), "dout": randn(n)}

    def fn(dtype, i):
        x = leaf(i["x"], dtype)
        out = torch.sigmoid(x)
        out.backward(i["dout"].to(dtype))
        return {"out": out, "dx": x.grad}
    write("sigmoid.tsv", "torch.sigmoid(x) on 41 points near [-20, 20]; backward from dout",
          inputs, fn)


def lenet_net(relu, maxpool):
    """d2l's LeNet (section 'Convolutional Neural Networks (LeNet)'), or its ReLU /
    max-pooling variant."""
    act = nn.ReLU if relu else nn.Sigmoid
    pool = nn.MaxPool2d if maxpool else nn.AvgPool2d
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), act(),
        pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), act(),
        pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, 10))


LATTICE_E = {"0": 2, "3": 4, "7": 4, "9": 3, "11": 3}   # by layer: fan_in 25, 150, 400, 120, 84


def lattice(p, n, e):
    """Parameter p's n values on the lattice described at the top (float64, exact)."""
    k = [(i * 2654435761 + 12345 * (p + 1)) % (1 << 24) for i in range(n)]
    return (torch.tensor(k, dtype=torch.float64) / float(1 << 23) - 1.0) * 2.0 ** -e


def lenet(name, relu, maxpool):
    N = 6
    inputs = {"X": torch.rand(N, 1, 28, 28, generator=GEN, dtype=torch.float32),
              "y": torch.tensor([3, 0, 9, 3, 7, 1], dtype=torch.int64)}
    shapes = [(pname, p.shape) for pname, p in lenet_net(relu, maxpool).named_parameters()]
    params = {pname: lattice(p, shape.numel(), LATTICE_E[pname.split(".")[0]]).view(shape)
              for p, (pname, shape) in enumerate(shapes)}
    for v in params.values():
        assert torch.equal(v.float().double(), v)   # exactly float32 numbers

    def fn(dtype, i):
        m = lenet_net(relu, maxpool).to(dtype)
        with torch.no_grad():
            for pname, p in m.named_parameters():
                p.copy_(params[pname].to(dtype))
        logits = m(i["X"].to(dtype))
        loss = F.cross_entropy(logits, i["y"])
        loss.backward()
        out = {"loss": loss, "logits": logits}
        for pname, p in m.named_parameters():
            out["grad." + pname] = p.grad
        return out
    write(name, "d2l's LeNet, act=%s, pool=%s, the lattice parameters (see the top of "
          "conv_ref.py), N = 6; loss = F.cross_entropy (mean); backward from 1"
          % ("relu" if relu else "sigmoid", "max" if maxpool else "avg"), inputs, fn, digits=10)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    conv("conv2d_s1_p0.tsv", 2, 3, 6, 5, 4, 3, 3, 1, 0)
    conv("conv2d_s1_p2.tsv", 2, 2, 7, 6, 3, 5, 5, 1, 2)
    conv("conv2d_s2_p0.tsv", 2, 3, 9, 8, 4, 3, 2, 2, 0)
    conv("conv2d_s2_p1.tsv", 3, 2, 7, 8, 3, 2, 3, 2, 1)
    pool("avgpool_k2s2.tsv", "avg", 2, 3, 6, 7, 2, 2)
    pool("avgpool_k3s2.tsv", "avg", 2, 2, 7, 8, 3, 2)
    pool("maxpool_k2s2.tsv", "max", 2, 3, 6, 7, 2, 2)
    pool("maxpool_k3s2.tsv", "max", 2, 2, 7, 8, 3, 2)
    sigmoid()
    lenet("lenet_sigmoid_avg.tsv", False, False)
    lenet("lenet_relu_max.tsv", True, True)


if __name__ == "__main__":
    main()
