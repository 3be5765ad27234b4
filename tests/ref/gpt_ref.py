#!/usr/bin/python3
"""gpt_ref.py -- PyTorch's transformer layers and a tiny GPT, for tests/lib/test_layers.c
and tests/lib/test_gpt.c.

Run from the repository root with Debian's PyTorch (`make fixtures` does):
    /usr/bin/python3 tests/ref/gpt_ref.py
It writes, deterministically (a fixed torch.Generator seed, no timestamps):
    tests/ref/gpt/layernorm.tsv   F.layer_norm (eps 1e-5) on x (N, C): out, dx, dw, db
    tests/ref/gpt/attention.tsv   nanoGPT's causal self-attention between c_attn and c_proj
                                  on qkv (B, T, 3C): out (B, T, C), att (B, NH, T, T), dqkv
    tests/ref/gpt/gelu.tsv        F.gelu(approximate='tanh'): out, dx
    tests/ref/gpt/encoder.tsv     wte[tokens] + wpe[:T]: out, dwte, dwpe
    tests/ref/gpt/xent.tsv        F.cross_entropy(logits.view(-1, V), targets.view(-1)): loss,
                                  dlogits
    tests/ref/gpt/model.tsv       a tiny GPT (nanoGPT's model.py: bias=True, no dropout,
                                  weight-tied head): config, every parameter, tokens,
                                  targets; the loss, the logits, every parameter's gradient,
                                  and the logits of the first T - 1 positions alone
Each backward is driven by a fixed random upstream gradient dout (the C tests fold the
layer's output into sum(out * dout) the same way), except the losses, whose gradient is 1.

Reference arithmetic: the inputs are float32 numbers, and the outputs are computed by
torch in float64 from them, so they are the exact answer to ~1e-16, not one float32
rounding of it. The C layers (float32) are held to them with a tolerance stated in the
tests. Each file's header also records how far torch's own float32 computation of the
same outputs lands from this reference ("torch float32 error"), the yardstick for that
tolerance: |a - r| / max|r| over each array, the worst array.

Format: comment lines start with '#'; every other line is one array,
    NAME <TAB> SHAPE (e.g. 3x5x8, or 1 for a scalar) <TAB> values, row-major,
with float32 inputs written with 9 significant digits (they read back exactly) and
outputs with 17 (float64, exactly). Integer arrays (tokens) are written as integers.

The tiny GPT: V = 11, block = T = 5, L = 2, NH = 2, C = 8, B = 3. Its weights are not
GPT-2's std-0.02 initialisation (whose gradients are so small that a wrong factor could
hide in them) but N(0, 0.3) for the Linear and Embedding weights, 1 + N(0, 0.1) for the
LayerNorm weights and N(0, 0.1) for every bias, so that every path carries signal.
Parameters are listed in named_parameters() order: nanoGPT's state_dict without the
tied lm_head.weight (which is transformer.wte.weight) and without the mask buffers.
"""
import math
import os
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join("tests", "ref", "gpt")
GEN = torch.Generator().manual_seed(20240609)


def randn(*shape, std=1.0, mean=0.0):
    return (torch.randn(*shape, generator=GEN, dtype=torch.float32) * std + mean).float()


def cpu_capability():
    m = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return m.group(1) if m else "unknown"


def shape_str(t):
    return "x".join(str(d) for d in t.shape) if t.dim() > 0 else "1"


def row(name, t, digits):
    t = t.detach()
    if t.dtype in (torch.int64, torch.int32):
        vals = "\t".join(str(int(v)) for v in t.reshape(-1).tolist())
    else:
        vals = "\t".join("%.*g" % (digits, v) for v in t.double().reshape(-1).tolist())
    return "%s\t%s\t%s" % (name, shape_str(t), vals)


def worst_err(ref, f32):
    """Largest |a - r| / max|r| over the arrays (the tolerance's yardstick)."""
    worst = 0.0
    for name, r in ref.items():
        a = f32[name].double()
        r = r.double()
        scale = r.abs().max().item()
        if scale > 0:
            worst = max(worst, (a - r).abs().max().item() / scale)
    return worst


def write(name, what, inputs, fn):
    """fn(dtype, inputs) -> dict of outputs; run in float64 (written) and float32 (the
    yardstick in the header)."""
    ref = fn(torch.float64, inputs)
    f32 = fn(torch.float32, inputs)
    lines = ["# %s: written by tests/ref/gpt_ref.py with torch %s (CPU kernels %s)"
             % (name, torch.__version__, cpu_capability()),
             "# " + what,
             "# outputs computed in float64 from the float32 inputs; torch float32 error "
             "(worst array, |a - r| / max|r|): %.3g" % worst_err(ref, f32),
             "# rows: name, shape, values (row-major)"]
    for k, v in inputs.items():
        lines.append(row(k, v, 9))
    for k, v in ref.items():
        lines.append(row(k, v, 17))
    with open(os.path.join(OUT, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def leaf(t, dtype):
    return t.to(dtype).clone().requires_grad_(True)


# --------------------------------------------------------------------------- layers

def layernorm():
    N, C = 6, 8
    inputs = {"x": randn(N, C, std=2.0, mean=0.5), "w": randn(C, std=0.5, mean=1.0),
              "b": randn(C, std=0.5), "dout": randn(N, C)}

    def fn(dtype, i):
        x, w, b = leaf(i["x"], dtype), leaf(i["w"], dtype), leaf(i["b"], dtype)
        out = F.layer_norm(x, (C,), w, b, eps=1e-5)
        out.backward(i["dout"].to(dtype))
        return {"out": out, "dx": x.grad, "dw": w.grad, "db": b.grad}
    write("layernorm.tsv", "F.layer_norm(x, (C,), w, b, eps=1e-5), N = 6, C = 8; "
          "backward from dout", inputs, fn)


def attention_core(qkv, B, T, C, NH):
    """nanoGPT's CausalSelfAttention.forward between c_attn and c_proj (the explicit,
    non-flash path)."""
    q, k, v = qkv.split(C, dim=2)
    hs = C // NH
    q = q.view(B, T, NH, hs).transpose(1, 2)    # (B, NH, T, hs)
    k = k.view(B, T, NH, hs).transpose(1, 2)
    v = v.view(B, T, NH, hs).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    att = att.masked_fill(~mask, float("-inf"))
    att = F.softmax(att, dim=-1)                 # (B, NH, T, T)
    y = att @ v                                  # (B, NH, T, hs)
    y = y.transpose(1, 2).contiguous().view(B, T, C)
    return y, att


def attention():
    B, T, C, NH = 2, 5, 8, 2
    inputs = {"qkv": randn(B, T, 3 * C), "dout": randn(B, T, C)}

    def fn(dtype, i):
        qkv = leaf(i["qkv"], dtype)
        y, att = attention_core(qkv, B, T, C, NH)
        y.backward(i["dout"].to(dtype))
        return {"out": y, "att": att, "dqkv": qkv.grad}
    write("attention.tsv", "causal self-attention, B = 2, T = 5, C = 8, NH = 2 (hs = 4); "
          "backward from dout (through out only)", inputs, fn)


def gelu():
    n = 41
    x = torch.linspace(-6.0, 6.0, n, dtype=torch.float32) + randn(n, std=0.05)
    inputs = {"x": x.float(), "dout": randn(n)}

    def fn(dtype, i):
        x = leaf(i["x"], dtype)
        out = F.gelu(x, approximate="tanh")
        out.backward(i["dout"].to(dtype))
        return {"out": out, "dx": x.grad}
    write("gelu.tsv", "F.gelu(x, approximate='tanh') on 41 points near [-6, 6]; backward "
          "from dout", inputs, fn)


def encoder():
    B, T, C, V, block = 3, 4, 6, 7, 5
    tokens = torch.tensor([[1, 3, 3, 0], [6, 2, 1, 1], [0, 6, 5, 3]], dtype=torch.int64)
    inputs = {"tokens": tokens, "wte": randn(V, C), "wpe": randn(block, C),
              "dout": randn(B, T, C)}

    def fn(dtype, i):
        wte, wpe = leaf(i["wte"], dtype), leaf(i["wpe"], dtype)
        out = F.embedding(i["tokens"], wte) + F.embedding(torch.arange(T), wpe)
        out.backward(i["dout"].to(dtype))
        return {"out": out, "dwte": wte.grad, "dwpe": wpe.grad}
    write("encoder.tsv", "wte[tokens] + wpe[:T], B = 3, T = 4, C = 6, V = 7, block = 5 "
          "(repeated tokens accumulate); backward from dout", inputs, fn)


def xent():
    B, T, V = 2, 3, 11
    inputs = {"logits": randn(B, T, V, std=2.0),
              "targets": torch.tensor([[0, 10, 4], [7, 7, 2]], dtype=torch.int64)}

    def fn(dtype, i):
        z = leaf(i["logits"], dtype)
        loss = F.cross_entropy(z.view(-1, V), i["targets"].view(-1))
        loss.backward()
        return {"loss": loss, "dlogits": z.grad}
    write("xent.tsv", "F.cross_entropy(logits.view(-1, V), targets.view(-1)), B = 2, T = 3, "
          "V = 11; backward from 1", inputs, fn)


# --------------------------------------------------------------------------- the model

class CausalSelfAttention(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.C, self.NH = C, NH

    def forward(self, x):
        B, T, C = x.size()
        y, _ = attention_core(self.c_attn(x), B, T, C, self.NH)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = CausalSelfAttention(C, NH)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = MLP(C)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, V, block, L, NH, C):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C),
            wpe=nn.Embedding(block, C),
            h=nn.ModuleList([Block(C, NH) for _ in range(L)]),
            ln_f=nn.LayerNorm(C)))
        self.lm_head = nn.Linear(C, V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT

    def forward(self, idx, targets=None):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def model():
    V, block, L, NH, C, B = 11, 5, 2, 2, 8, 3
    T = block
    ref = GPT(V, block, L, NH, C)
    params = {}
    for name, p in ref.named_parameters():
        if name.endswith("bias"):
            params[name] = randn(*p.shape, std=0.1)
        elif ".ln_" in name or name.startswith("transformer.ln_f"):
            params[name] = randn(*p.shape, std=0.1, mean=1.0)
        else:
            params[name] = randn(*p.shape, std=0.3)
    tokens = torch.randint(0, V, (B, T), generator=GEN)
    targets = torch.randint(0, V, (B, T), generator=GEN)
    inputs = {"config": torch.tensor([V, block, L, NH, C, B], dtype=torch.int64),
              "tokens": tokens, "targets": targets}
    inputs.update(params)

    def fn(dtype, i):
        m = GPT(V, block, L, NH, C).to(dtype)
        with torch.no_grad():
            for name, p in m.named_parameters():
                p.copy_(i[name].to(dtype))
        logits, loss = m(i["tokens"], i["targets"])
        loss.backward()
        out = {"loss": loss, "logits": logits}
        with torch.no_grad():
            short, _ = m(i["tokens"][:, :T - 1])
        out["logits_short"] = short
        for name, p in m.named_parameters():
            out["grad." + name] = p.grad
        return out
    write("model.tsv", "nanoGPT-style GPT, V = 11, block = T = 5, L = 2, NH = 2, C = 8, "
          "B = 3 (config row: V, block, L, NH, C, B); loss = mean cross-entropy over B*T; "
          "logits_short: the first T - 1 positions alone", inputs, fn)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    layernorm()
    attention()
    gelu()
    encoder()
    xent()
    model()


if __name__ == "__main__":
    main()
