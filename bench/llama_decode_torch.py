#!/usr/bin/python3
"""The PyTorch peer of alab's Llama decoding (bench/bench_llama.sh): a Llama
(RMSNorm, rotary positions, SwiGLU, grouped-query attention, fp32) decoding
one token at a time with its own KV cache, greedy, tuned the usual ways
(inference_mode, preallocated caches, fused q|k|v and gate|up matrices).
With bf16, the weights, caches and activations are bfloat16 (a model
loaded with torch_dtype=torch.bfloat16), the logits' argmax in float32.

usage: llama_decode_torch.py LAYERS HEADS KV_HEADS EMBD FFN VOCAB TOKENS THREADS [fp32|bf16]
Prints "decode_tokens_per_s X"."""
import sys, time
import torch


def main():
    L, H, KVH, C, F, V, n, threads = map(int, sys.argv[1:9])
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[sys.argv[9] if len(sys.argv) > 9 else "fp32"]
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    hs, KV = C // H, KVH * (C // H)
    s = 0.02
    emb = torch.randn(V, C) * s
    head = torch.randn(V, C) * s
    layers = [dict(n1=torch.ones(C), qkv=torch.randn(C + 2 * KV, C) * s, o=torch.randn(C, C) * s, n2=torch.ones(C),
                   gu=torch.randn(2 * F, C) * s, down=torch.randn(C, F) * s) for _ in range(L)]
    norm = torch.ones(C)
    T = n + 8
    kc = torch.zeros(L, KVH, T, hs)
    vc = torch.zeros(L, KVH, T, hs)
    inv = 1.0 / (10000.0 ** (torch.arange(0, hs, 2).float() / hs))
    fr = torch.outer(torch.arange(T).float(), inv)
    cos, sin = torch.cat((fr, fr), -1).cos().to(dtype), torch.cat((fr, fr), -1).sin().to(dtype)

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))

    def rot(x, t):  # x [heads, hs]
        h = hs // 2
        return x * cos[t] + torch.cat((-x[..., h:], x[..., :h]), -1) * sin[t]

    def step(tok, t):
        x = emb[tok]
        for l, p in enumerate(layers):
            qkv = torch.mv(p["qkv"], rms(x, p["n1"]))
            q = rot(qkv[:C].view(H, hs), t)
            kc[l, :, t] = rot(qkv[C:C + KV].view(KVH, hs), t)
            vc[l, :, t] = qkv[C + KV:].view(KVH, hs)
            k = kc[l, :, :t + 1].repeat_interleave(H // KVH, 0)
            v = vc[l, :, :t + 1].repeat_interleave(H // KVH, 0)
            att = torch.softmax(torch.bmm(k, q.unsqueeze(-1)).squeeze(-1) / hs ** 0.5, -1)
            y = torch.bmm(att.unsqueeze(1), v).reshape(C)
            x = x + torch.mv(p["o"], y)
            gu = torch.mv(p["gu"], rms(x, p["n2"]))
            x = x + torch.mv(p["down"], torch.nn.functional.silu(gu[:F]) * gu[F:])
        return torch.mv(head, rms(x, norm))

    with torch.inference_mode():
        for t in range(3):
            step(0, t)
        tok, t0 = 0, time.time()
        for t in range(n):
            tok = int(step(tok, t).float().argmax())
        dt = time.time() - t0
    print(f"decode_tokens_per_s {n / dt:.1f}")


if __name__ == "__main__":
    main()
