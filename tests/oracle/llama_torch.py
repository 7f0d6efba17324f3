#!/usr/bin/python3
"""PyTorch reference for alab's Llama (test oracle, never shipped).

Written from Hugging Face's LlamaForCausalLM definitions in plain torch
(transformers is not used): RMSNorm, rotary embeddings with rotate_half,
grouped-query attention (repeat_kv), SwiGLU, tied or untied head, optional
attention/MLP biases. Three modes:

  llama_torch.py grad MODEL_DIR BATCH_JSON OUT
      reads a model directory written by alab (config.json + model.safetensors,
      parsed here with struct + json), runs the batch {"B","T","inputs",
      "targets","adam"} (or {"B","T","inputs","score_pos","score_dvalues"} for
      a LlamaForSequenceClassification) and writes logits, loss, every
      gradient ("grad.<name>") and the parameters after the AdamW steps
      ("adam.<name>").
  llama_torch.py hf-dir DIR SEED
      writes a Hugging Face directory the way transformers saves a sharded
      BF16 checkpoint: config.json, model-00001-of-00002.safetensors,
      model-00002-of-00002.safetensors, model.safetensors.index.json (plus the
      rotary inv_freq buffers older checkpoints carry), and DIR/expected.safetensors
      with the inputs and the logits of the BF16 weights.
  llama_torch.py llama2c FILE SEED SHARED
      writes a llama2.c checkpoint (7-int header, Meta's interleaved rotary
      layout for wq/wk, negative vocab_size when the classifier is not
      shared) and FILE.expected.safetensors with inputs and logits computed
      with llama2.c's own rotary convention (pairs 2i, 2i+1), so the
      conversion alab does on load is checked against an independent rope.
  llama_torch.py read-dir DIR F32DIR OUT
      reads a directory alab wrote in shards (model.safetensors.index.json:
      every tensor in the shard its weight_map names, total_size the sum of
      the tensors' bytes, every tensor BF16) and checks each tensor is
      torch's .to(bfloat16) of the same tensor in F32DIR (alab's float32
      save of the same model), bit for bit; writes OUT with inputs and the
      logits of DIR's weights.
"""
import json, math, struct, sys
import torch

torch.set_num_threads(1)
DT = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt, _ = DT[info["dtype"]]
        b, e = info["data_offsets"]
        buf = bytearray(raw[8 + n + b:8 + n + e])
        out[name] = torch.frombuffer(buf, dtype=dt).clone().to(torch.float32).reshape(info["shape"])
    return out


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous().to(DT[dtype][0])
        data = (t.view(torch.int16) if DT[dtype][1] == 2 else t).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rmsnorm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_hf(T, hs, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hs, 2, dtype=torch.int64).float() / hs))
    freqs = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def apply_rope_hf(x, cos, sin):  # x [B, heads, T, hs]
    return x * cos + rotate_half(x) * sin


def apply_rope_interleaved(x, cos, sin):  # llama2.c / Meta: pairs (2i, 2i+1); cos, sin [T, hs/2]
    xr, xi = x[..., 0::2], x[..., 1::2]
    out = torch.stack((xr * cos - xi * sin, xr * sin + xi * cos), dim=-1)
    return out.flatten(-2)


def linear(x, P, name):
    y = x @ P[name + ".weight"].t()
    return y + P[name + ".bias"] if name + ".bias" in P else y


def llama_hidden(P, cfg, idx, interleaved=False):
    B, T = idx.shape
    C, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    KVH = cfg.get("num_key_value_heads") or H
    hs, eps, theta = C // H, cfg["rms_norm_eps"], cfg.get("rope_theta", 10000.0)
    if interleaved:
        inv = 1.0 / (theta ** (torch.arange(0, hs, 2).float() / hs))
        fr = torch.outer(torch.arange(T).float(), inv)
        cos, sin = fr.cos(), fr.sin()
        rope = lambda x: apply_rope_interleaved(x, cos, sin)
    else:
        cos, sin = rope_hf(T, hs, theta)
        rope = lambda x: apply_rope_hf(x, cos, sin)
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    x = P["model.embed_tokens.weight"][idx]
    for l in range(L):
        pre = f"model.layers.{l}."
        h = rmsnorm(x, P[pre + "input_layernorm.weight"], eps)
        q = linear(h, P, pre + "self_attn.q_proj").view(B, T, H, hs).transpose(1, 2)
        k = linear(h, P, pre + "self_attn.k_proj").view(B, T, KVH, hs).transpose(1, 2)
        v = linear(h, P, pre + "self_attn.v_proj").view(B, T, KVH, hs).transpose(1, 2)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(H // KVH, dim=1)  # repeat_kv
        v = v.repeat_interleave(H // KVH, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + linear(y, P, pre + "self_attn.o_proj")
        h = rmsnorm(x, P[pre + "post_attention_layernorm.weight"], eps)
        g = linear(h, P, pre + "mlp.gate_proj")
        x = x + linear(torch.nn.functional.silu(g) * linear(h, P, pre + "mlp.up_proj"), P, pre + "mlp.down_proj")
    return rmsnorm(x, P["model.norm.weight"], eps)


def llama(P, cfg, idx, interleaved=False):
    head = P["lm_head.weight"] if "lm_head.weight" in P else P["model.embed_tokens.weight"]
    return llama_hidden(P, cfg, idx, interleaved) @ head.t()


def grad_mode(mdir, batch_path, out_path):
    cfg = json.load(open(f"{mdir}/config.json"))
    assert cfg["model_type"] == "llama"
    P = {k: v.requires_grad_(True) for k, v in read_safetensors(f"{mdir}/model.safetensors").items()}
    batch = json.load(open(batch_path))
    assert cfg["tie_word_embeddings"] or "score_pos" in batch or "lm_head.weight" in P
    B, T = batch["B"], batch["T"]
    idx = torch.tensor(batch["inputs"], dtype=torch.long).view(B, T)
    out = {}
    if "score_pos" in batch:
        assert cfg["architectures"] == ["LlamaForSequenceClassification"], cfg["architectures"]
        h = llama_hidden(P, cfg, idx)
        pos = torch.tensor(batch["score_pos"], dtype=torch.long)
        values = h[torch.arange(B), pos] @ P["score.weight"][0]
        (values * torch.tensor(batch["score_dvalues"], dtype=torch.float32)).sum().backward()
        out["values"] = values.detach()
        for k, v in P.items():
            out["grad." + k] = v.grad.detach().clone()
        return write_safetensors(out_path, out)
    assert cfg["architectures"] == ["LlamaForCausalLM"], cfg["architectures"]
    tgt = torch.tensor(batch["targets"], dtype=torch.long).view(B, T)
    xent = lambda lg: torch.nn.functional.cross_entropy(lg.view(B * T, -1), tgt.view(-1), ignore_index=-1)
    logits = llama(P, cfg, idx)
    loss = xent(logits)
    loss.backward()
    out = {"logits": logits.detach(), "loss": loss.detach().reshape(1)}
    for k, v in P.items():
        out["grad." + k] = v.grad.detach().clone()
    a = batch["adam"]
    opt = torch.optim.AdamW([{"params": [v for v in P.values() if v.dim() == 2], "weight_decay": a["weight_decay"]},
                             {"params": [v for v in P.values() if v.dim() != 2], "weight_decay": 0.0}],
                            lr=a["lr"], betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    for _ in range(a["steps"]):
        opt.zero_grad()
        xent(llama(P, cfg, idx)).backward()
        opt.step()
    for k, v in P.items():
        out["adam." + k] = v.detach().clone()
    write_safetensors(out_path, out)


def random_llama(cfg, seed, with_bias=False):
    g = torch.Generator().manual_seed(seed)
    C, H, L, V, F = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size",
                                       "intermediate_size"))
    KV = cfg["num_key_value_heads"] * (C // H)
    rn = lambda *s: torch.randn(*s, generator=g) * 0.2
    P = {"model.embed_tokens.weight": rn(V, C)}
    for l in range(L):
        pre = f"model.layers.{l}."
        P[pre + "input_layernorm.weight"] = 1 + rn(C)
        for n, o in (("q", C), ("k", KV), ("v", KV), ("o", C)):
            P[pre + f"self_attn.{n}_proj.weight"] = rn(o, C)
        P[pre + "post_attention_layernorm.weight"] = 1 + rn(C)
        P[pre + "mlp.gate_proj.weight"] = rn(F, C)
        P[pre + "mlp.up_proj.weight"] = rn(F, C)
        P[pre + "mlp.down_proj.weight"] = rn(C, F)
    P["model.norm.weight"] = 1 + rn(C)
    if not cfg.get("tie_word_embeddings"):
        P["lm_head.weight"] = rn(V, C)
    return P, g


def hf_dir_mode(d, seed):
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 53, "hidden_size": 32,
           "intermediate_size": 40, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 50000.0, "rope_scaling": None,
           "hidden_act": "silu", "tie_word_embeddings": False, "attention_bias": False, "mlp_bias": False,
           "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}
    P, g = random_llama(cfg, seed)
    P = {k: v.to(torch.bfloat16).to(torch.float32) for k, v in P.items()}  # what the files hold
    json.dump(cfg, open(f"{d}/config.json", "w"), indent=2)
    names = sorted(P)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    wmap, total = {}, 0
    for fname, ns in shards.items():
        ts = {n: P[n] for n in ns}
        if fname.startswith("model-00002"):  # a non-parameter buffer, as older transformers saved
            ts["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.ones(4)
            wmap["model.layers.0.self_attn.rotary_emb.inv_freq"] = fname
        write_safetensors(f"{d}/{fname}", ts, "BF16", {"format": "pt"})
        for n in ns:
            wmap[n] = fname
            total += P[n].numel() * 2
    json.dump({"metadata": {"total_size": total}, "weight_map": wmap}, open(f"{d}/model.safetensors.index.json", "w"),
              indent=2)
    idx = torch.randint(0, cfg["vocab_size"], (1, 11), generator=g)
    logits = llama(P, cfg, idx)
    write_safetensors(f"{d}/expected.safetensors", {"inputs": idx.float(), "logits": logits.detach()})


def read_sharded(d):
    index = json.load(open(f"{d}/model.safetensors.index.json"))
    P, total = {}, 0
    for fname in sorted(set(index["weight_map"].values())):
        with open(f"{d}/{fname}", "rb") as f:
            raw = f.read()
        header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
        for name, info in header.items():
            if name == "__metadata__":
                continue
            assert index["weight_map"][name] == fname, (name, fname)
            assert info["dtype"] == "BF16", (name, info["dtype"])
            total += info["data_offsets"][1] - info["data_offsets"][0]
        P.update(read_safetensors(f"{d}/{fname}"))
    assert sorted(P) == sorted(index["weight_map"]), "the map names the tensors the shards hold"
    assert index["metadata"]["total_size"] == total, (index["metadata"]["total_size"], total)
    return P


def read_dir_mode(d, f32dir, out_path):
    cfg = json.load(open(f"{d}/config.json"))
    P = read_sharded(d)
    ref = read_safetensors(f"{f32dir}/model.safetensors")
    assert sorted(P) == sorted(ref)
    for k in ref:
        want = ref[k].to(torch.bfloat16).view(torch.int16)
        got = P[k].to(torch.bfloat16).view(torch.int16)
        assert torch.equal(want, got), f"{k}: alab's bf16 is not torch's rounding"
    idx = torch.randint(0, cfg["vocab_size"], (1, 9), generator=torch.Generator().manual_seed(5))
    write_safetensors(out_path, {"inputs": idx.float(), "logits": llama(P, cfg, idx).detach()})


def llama2c_mode(path, seed, shared):
    cfg = {"vocab_size": 41, "hidden_size": 32, "intermediate_size": 56, "num_hidden_layers": 2,
           "num_attention_heads": 4, "num_key_value_heads": 2, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
           "tie_word_embeddings": shared}
    T = 24
    P, g = random_llama(cfg, seed)
    C, H, L, V, F = 32, 4, 2, 41, 56
    cat = lambda suffix: torch.stack([P[f"model.layers.{l}.{suffix}"] for l in range(L)])
    hs = C // H
    fr = torch.outer(torch.arange(T).float(), 1.0 / (10000.0 ** (torch.arange(0, hs, 2).float() / hs)))
    parts = [P["model.embed_tokens.weight"], cat("input_layernorm.weight"), cat("self_attn.q_proj.weight"),
             cat("self_attn.k_proj.weight"), cat("self_attn.v_proj.weight"), cat("self_attn.o_proj.weight"),
             cat("post_attention_layernorm.weight"), cat("mlp.gate_proj.weight"), cat("mlp.down_proj.weight"),
             cat("mlp.up_proj.weight"), P["model.norm.weight"], fr.cos(), fr.sin()]
    if not shared:
        parts.append(P["lm_head.weight"])
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", C, F, L, H, cfg["num_key_value_heads"], V if shared else -V, T))
        for p in parts:
            f.write(p.contiguous().to(torch.float32).numpy().tobytes())
    idx = torch.randint(0, V, (1, 13), generator=g)
    # the weights above are in Meta's layout, so the reference uses Meta's rope
    logits = llama(P, cfg, idx, interleaved=True)
    write_safetensors(path + ".expected.safetensors", {"inputs": idx.float(), "logits": logits.detach()})


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "grad":
        grad_mode(*sys.argv[2:5])
    elif mode == "hf-dir":
        hf_dir_mode(sys.argv[2], int(sys.argv[3]))
    elif mode == "read-dir":
        read_dir_mode(*sys.argv[2:5])
    elif mode == "llama2c":
        llama2c_mode(sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1")
    else:
        sys.exit("unknown mode " + mode)
