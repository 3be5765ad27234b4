#!/usr/bin/env python3
"""torch_gpt.py -- the PyTorch side of `make bench`: the same GPT training as bench/gpt.c.

nanoGPT's model (Karpathy, model.py: bias=True, no dropout, weight-tied head, the explicit
causal-attention path; torch 1.13 has no fused scaled_dot_product_attention), GPT-2's
initialisation, AdamW (lr 3e-4, betas (0.9, 0.95), weight decay 0.1 on the Linear weights
and 0 on biases, LayerNorm and embeddings, the single-tensor implementation), uniform
random tokens with next-token targets, ONE thread. A step: forward + loss, zero_grad +
backward, optimizer step. Prints, for bench/gpt.c to read:
    step_s SECONDS   best over --reps timings of --steps steps (after one warm-up step), in
                     CPU seconds of this process (time.process_time), as bench/gpt.c times
    rss_mb MB        this process's peak resident set size
    loss LOSS        the last step's loss
Leaves out: data loading, evaluation, anything on the GPU.

  /usr/bin/python3 bench/torch_gpt.py --steps 10 --reps 3
"""
import argparse
import math
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", type=int, default=96)
    ap.add_argument("--block", type=int, default=64, help="context length T")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10, help="steps per timing")
    ap.add_argument("--reps", type=int, default=3, help="timings (the best is kept)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for k in ("vocab", "block", "layers", "heads", "width", "batch", "steps", "reps"):
        if getattr(a, k) < 1:
            ap.error("--%s: must be >= 1" % k)
    if a.width % a.heads:
        ap.error("--width: must be a multiple of --heads")

    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    V, T, L, NH, C, B = a.vocab, a.block, a.layers, a.heads, a.width, a.batch

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(C, 3 * C)
            self.c_proj = nn.Linear(C, C)
            self.register_buffer("mask", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

        def forward(self, x):
            Bx, Tx, _ = x.size()
            q, k, v = self.c_attn(x).split(C, dim=2)
            q = q.view(Bx, Tx, NH, C // NH).transpose(1, 2)
            k = k.view(Bx, Tx, NH, C // NH).transpose(1, 2)
            v = v.view(Bx, Tx, NH, C // NH).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.mask[:, :, :Tx, :Tx] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(Bx, Tx, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(C)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(C)
            self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(C, 4 * C), c_proj=nn.Linear(4 * C, C)))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            m = self.mlp
            return x + m.c_proj(F.gelu(m.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(V, C), wpe=nn.Embedding(T, C),
                h=nn.ModuleList([Block() for _ in range(L)]), ln_f=nn.LayerNorm(C)))
            self.lm_head = nn.Linear(C, V, bias=False)
            self.transformer.wte.weight = self.lm_head.weight
            for name, p in self.named_parameters():   # GPT-2's init, as nanoGPT
                if name.endswith("bias"):
                    nn.init.zeros_(p)
                elif ".ln_" in name:
                    nn.init.ones_(p)
                elif name.endswith("c_proj.weight"):
                    nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * L))
                else:
                    nn.init.normal_(p, 0.0, 0.02)

        def forward(self, idx, targets):
            x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.size(1)))
            for blk in self.transformer.h:
                x = blk(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return F.cross_entropy(logits.view(-1, V), targets.view(-1))

    model = GPT()
    decay = [p for n, p in model.named_parameters()
             if n.endswith(".weight") and ("c_attn" in n or "c_proj" in n or "c_fc" in n)]
    ids = {id(p) for p in decay}
    other = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": other, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), foreach=False)
    g = torch.Generator().manual_seed(a.seed + 1)
    stream = [torch.randint(0, V, (B, T + 1), generator=g) for _ in range(4)]
    batches = [(s[:, :-1].contiguous(), s[:, 1:].contiguous()) for s in stream]

    def run(steps):
        loss = None
        for s in range(steps):
            x, y = batches[s % len(batches)]
            loss = model(x, y)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
        return loss.item()

    run(1)
    best, loss = float("inf"), float("nan")
    for _ in range(a.reps):
        t0 = time.process_time()
        loss = run(a.steps)
        best = min(best, (time.process_time() - t0) / a.steps)
    print("step_s %.6f" % best)
    print("rss_mb %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    print("loss %.4f" % loss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
