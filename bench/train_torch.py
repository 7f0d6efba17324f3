#!/usr/bin/python3
"""PyTorch peer for bench/bench_train.sh: trains the same GPT-2 (fp32,
AdamW, same batch and context) on random tokens and prints tokens/s.

usage: train_torch.py LAYERS HEADS EMBD CONTEXT VOCAB BATCH STEPS THREADS [decode] [bf16] [cpu]
With 'decode' it instead times one-token-at-a-time generation with a KV cache.
With 'bf16' training runs its forward and loss under
torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's mixed precision:
bf16 matrix products through oneDNN, fp32 weights and optimizer). With
'cpu' the steps are timed in process CPU time (tokens_per_cpu_s: the rate
on idle cores, which a loaded machine's wall clock cannot show).
"""
import math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def attn(self, x, cache=None):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = [t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v)]
        if cache is not None:
            if cache[0] is not None:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.H)
        if cache is None:
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            att = att.masked_fill(~mask, float("-inf"))
        y = att.softmax(-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, L, H, C, T, V):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(T, C)
        self.h = nn.ModuleList([Block(C, H) for _ in range(L)])
        self.ln_f = nn.LayerNorm(C)

    def forward(self, idx, pos0=0, caches=None):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(pos0, pos0 + T))
        for i, b in enumerate(self.h):
            x = b(x, None if caches is None else caches[i])
        return self.ln_f(x) @ self.wte.weight.t()


def main():
    L, H, C, T, V, B, steps, threads = map(int, sys.argv[1:9])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = GPT(L, H, C, T, V)
    modes = sys.argv[9:]
    if "decode" in modes:
        model.eval()
        with torch.no_grad():
            caches = [[None, None] for _ in range(L)]
            tok = torch.zeros(1, 1, dtype=torch.long)
            n = min(steps, T)
            for i in range(3):  # warm up on a throwaway cache
                model(tok, i, [[None, None] for _ in range(L)])
            t0 = time.time()
            for i in range(n):
                logits = model(tok, i, caches)
                tok = logits[:, -1].argmax(-1, keepdim=True)
            dt = time.time() - t0
        print(f"decode_tokens_per_s {n / dt:.1f}")
        return
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1, betas=(0.9, 0.95))
    x = torch.randint(0, V, (B, T))
    y = torch.randint(0, V, (B, T))
    times = []
    clock = time.process_time if "cpu" in modes else time.time
    for s in range(steps):
        t0 = clock()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled="bf16" in modes):
            loss = F.cross_entropy(model(x).view(B * T, V), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(clock() - t0)
    steady = times[2:] if len(times) > 4 else times  # skip warm-up steps
    print(f"tokens_per_{'cpu_' if 'cpu' in modes else ''}s {B * T * len(steady) / sum(steady):.1f}")


if __name__ == "__main__":
    main()
