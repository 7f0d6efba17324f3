#!/usr/bin/python3
"""PyTorch reference for alab's GPT-2 (test oracle, never shipped).

usage: gpt2_torch.py MODEL_DIR BATCH_JSON OUT_SAFETENSORS

Reads an alab model directory (config.json + model.safetensors, parsed here
with struct + json only), a batch {"B", "T", "inputs", "targets",
"adam": {"steps", "lr", "beta1", "beta2", "eps", "weight_decay"}}, runs the
same GPT-2 written independently in torch (float32), and writes logits, loss,
every parameter gradient (as "grad.<name>") and the parameters after the
AdamW steps (as "adam.<name>") to a safetensors file.

A batch {"B", "T", "inputs", "score_pos", "score_dvalues"} checks the scalar
head instead (a GPT2ForSequenceClassification checkpoint: "transformer.*"
and "score.weight" [1, C]): values[b] = score.weight @ h[b, score_pos[b]], h
the hidden state after ln_f, and the gradients (as "grad.<name>") of
sum_b score_dvalues[b] * values[b].
"""
import json, math, struct, sys
import torch

torch.set_num_threads(1)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        buf = bytearray(raw[8 + n + b:8 + n + e])
        t = torch.frombuffer(buf, dtype=torch.float32).clone()
        out[name] = t.reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def gpt2_hidden(P, cfg, idx):
    B, T = idx.shape
    C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    eps = cfg["layer_norm_epsilon"]
    ln = lambda x, w, b: torch.nn.functional.layer_norm(x, (C,), w, b, eps)
    x = P["wte.weight"][idx] + P["wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        p = lambda s: P[f"h.{l}.{s}"]
        h = ln(x, p("ln_1.weight"), p("ln_1.bias"))
        qkv = h @ p("attn.c_attn.weight") + p("attn.c_attn.bias")  # Conv1D: [in, out]
        q, k, v = qkv.split(C, dim=2)
        q, k, v = [t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + y @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
        h = ln(x, p("ln_2.weight"), p("ln_2.bias"))
        h = gelu_tanh(h @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias"))
        x = x + h @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
    return ln(x, P["ln_f.weight"], P["ln_f.bias"])


def gpt2(P, cfg, idx):
    return gpt2_hidden(P, cfg, idx) @ P["wte.weight"].t()  # tied head


def scalar_head(P, cfg, idx, batch, out_path):
    B, T = idx.shape
    h = gpt2_hidden(P, cfg, idx)
    pos = torch.tensor(batch["score_pos"], dtype=torch.long)
    values = h[torch.arange(B), pos] @ P["score.weight"][0]  # Linear(n_embd, 1, bias=False)
    loss = (values * torch.tensor(batch["score_dvalues"], dtype=torch.float32)).sum()
    loss.backward()
    out = {"values": values.detach()}
    for k, v in P.items():
        out["grad." + k] = v.grad.detach().clone()
    write_safetensors(out_path, out)


def main():
    mdir, batch_path, out_path = sys.argv[1:4]
    cfg = json.load(open(f"{mdir}/config.json"))
    assert cfg["model_type"] == "gpt2"
    strip = lambda k: k[len("transformer."):] if k.startswith("transformer.") else k
    P = {strip(k): v.requires_grad_(True) for k, v in read_safetensors(f"{mdir}/model.safetensors").items()}
    batch = json.load(open(batch_path))
    B, T = batch["B"], batch["T"]
    idx = torch.tensor(batch["inputs"], dtype=torch.long).view(B, T)
    if "score_pos" in batch:
        assert cfg["architectures"] == ["GPT2ForSequenceClassification"], cfg["architectures"]
        return scalar_head(P, cfg, idx, batch, out_path)
    tgt = torch.tensor(batch["targets"], dtype=torch.long).view(B, T)
    logits = gpt2(P, cfg, idx)
    loss = torch.nn.functional.cross_entropy(logits.view(B * T, -1), tgt.view(-1), ignore_index=-1)
    loss.backward()
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for k, v in P.items():
        out["grad." + k] = v.grad.detach().clone()
    a = batch["adam"]
    decay = [v for k, v in P.items() if v.dim() == 2]
    no_decay = [v for k, v in P.items() if v.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    for _ in range(a["steps"]):
        opt.zero_grad()
        l = torch.nn.functional.cross_entropy(gpt2(P, cfg, idx).view(B * T, -1), tgt.view(-1), ignore_index=-1)
        l.backward()
        opt.step()
    for k, v in P.items():
        out["adam." + k] = v.detach().clone()
    write_safetensors(out_path, out)


if __name__ == "__main__":
    main()
