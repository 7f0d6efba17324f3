#!/usr/bin/python3
"""The PyTorch peer of alab's RL rollouts (bench/bench_rl.sh): the same GPT-2
directory sampling B responses of N tokens after one prompt, all B rows in
one batch with a KV cache (what HF generate does), fp32, inference_mode,
multinomial sampling at temperature 1. Prints "sample_tokens_per_s X".

usage: rl_sample_torch.py MODEL_DIR PROMPT_IDS(comma list) B N THREADS"""
import json, math, os, sys, time
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "oracle"))
from gpt2_torch import gelu_tanh, read_safetensors  # noqa: E402


def main():
    mdir, ids, B, N, threads = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], *map(int, sys.argv[3:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = json.load(open(f"{mdir}/config.json"))
    P = {k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in
         read_safetensors(f"{mdir}/model.safetensors").items()}
    C, H, L, eps = cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg.get("layer_norm_epsilon", 1e-5)
    hs, T = C // H, len(ids) + N
    K = torch.zeros(L, B, H, T, hs)
    V = torch.zeros(L, B, H, T, hs)
    ln = lambda x, w, b: torch.nn.functional.layer_norm(x, (C,), w, b, eps)

    def forward(tok, t0):  # tok [B, n] at positions t0..t0+n
        n = tok.shape[1]
        x = P["wte.weight"][tok] + P["wpe.weight"][t0:t0 + n]
        for l in range(L):
            p = lambda s: P[f"h.{l}.{s}"]
            qkv = ln(x, p("ln_1.weight"), p("ln_1.bias")) @ p("attn.c_attn.weight") + p("attn.c_attn.bias")
            q, k, v = [z.view(B, n, H, hs).transpose(1, 2) for z in qkv.split(C, dim=2)]
            K[l, :, :, t0:t0 + n], V[l, :, :, t0:t0 + n] = k, v
            att = q @ K[l, :, :, :t0 + n].transpose(-2, -1) / math.sqrt(hs)
            if n > 1:
                att = att.masked_fill(~torch.tril(torch.ones(n, t0 + n, dtype=torch.bool), t0), float("-inf"))
            y = (att.softmax(-1) @ V[l, :, :, :t0 + n]).transpose(1, 2).reshape(B, n, C)
            x = x + y @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
            h = gelu_tanh(ln(x, p("ln_2.weight"), p("ln_2.bias")) @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias"))
            x = x + h @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
        return ln(x[:, -1], P["ln_f.weight"], P["ln_f.bias"]) @ P["wte.weight"].t()

    with torch.inference_mode():
        t = time.perf_counter()
        logits = forward(torch.tensor([ids] * B), 0)
        for i in range(N):
            tok = torch.multinomial(torch.softmax(logits, -1), 1)
            if i + 1 < N:
                logits = forward(tok, len(ids) + i)
        dt = time.perf_counter() - t
    print(f"sample_tokens_per_s {B * N / dt:.1f}")


if __name__ == "__main__":
    main()
