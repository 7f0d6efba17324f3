#!/usr/bin/python3
"""PyTorch oracle for alab's model directories (Debian has no python3-safetensors
or python3-transformers, so this reads and writes safetensors itself with
struct + json + torch, following the format's definition).

1. alab writes a GPT-2 model directory; we parse model.safetensors and check
   the header (8-byte aligned, contiguous offsets), the names, shapes and
   dtypes against the tensors of Hugging Face's GPT2Model for the same config
   (computed here, independently), every value against alab's raw parameter
   dump, and config.json's GPT2Config keys.
2. We write a checkpoint the way GPT2LMHeadModel's are: "transformer." prefix,
   mask buffers (h.N.attn.bias as BOOL, h.N.attn.masked_bias), a tied
   lm_head.weight, tensors in a different order, F16 and BF16 tensors; alab
   must load it and get exactly torch's float32 values.
Usage: io_torch_oracle.py IO_ORACLE_TOOL TMPDIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys

import torch

DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
          "BOOL": (torch.bool, 1), "F64": (torch.float64, 8)}


def hf_gpt2_tensors(V, P, L, C):
    """(name, shape) of HF GPT2Model's parameters, in its state_dict order."""
    out = [("wte.weight", (V, C)), ("wpe.weight", (P, C))]
    for l in range(L):
        h = f"h.{l}."
        out += [(h + "ln_1.weight", (C,)), (h + "ln_1.bias", (C,)),
                (h + "attn.c_attn.weight", (C, 3 * C)), (h + "attn.c_attn.bias", (3 * C,)),
                (h + "attn.c_proj.weight", (C, C)), (h + "attn.c_proj.bias", (C,)),
                (h + "ln_2.weight", (C,)), (h + "ln_2.bias", (C,)),
                (h + "mlp.c_fc.weight", (C, 4 * C)), (h + "mlp.c_fc.bias", (4 * C,)),
                (h + "mlp.c_proj.weight", (4 * C, C)), (h + "mlp.c_proj.bias", (C,))]
    return out + [("ln_f.weight", (C,)), ("ln_f.bias", (C,))]


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), f"header length {n} past the end"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buf = data[8 + n:]
    meta = header.pop("__metadata__", None)
    tensors = {}
    at = 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, en = e["data_offsets"]
        assert b == at, f"{name}: gap or overlap at {b} (expected {at})"
        dt, size = DTYPES[e["dtype"]]
        numel = 1
        for d in e["shape"]:
            numel *= d
        assert en - b == numel * size, f"{name}: size mismatch"
        t = torch.frombuffer(bytearray(buf[b:en]), dtype=dt) if numel else torch.empty(0, dtype=dt)
        tensors[name] = (e["dtype"], t.reshape(e["shape"]))
        at = en
    assert at == len(buf), "tensors do not cover the buffer"
    return n, list(header.keys()), tensors, meta


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> torch tensor (contiguous). Laid out like the
    reference writer: sorted by dtype size (largest first) then name."""
    names = {v[0]: k for k, v in DTYPES.items()}
    order = sorted(tensors, key=lambda k: (-tensors[k].element_size(), k))
    header, blobs, at = {"__metadata__": metadata}, [], 0
    for k in order:
        t = tensors[k].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[k] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


passed = failed = 0


def alab_writes(tool, d, V, P, L, H, C, seed):
    subprocess.run([tool, "write", d, str(V), str(P), str(L), str(H), str(C), str(seed)], check=True)
    n, names, tensors, meta = read_safetensors(os.path.join(d, "model.safetensors"))
    check((8 + n) % 8 == 0, "header padded to 8-byte alignment")
    check(meta == {"format": "pt"}, f"metadata {meta} (transformers requires format=pt)")
    want = hf_gpt2_tensors(V, P, L, C)
    check(names == [w[0] for w in want], "names in HF order, without the transformer. prefix")
    raw = torch.frombuffer(bytearray(open(os.path.join(d, "params.f32"), "rb").read()), dtype=torch.float32)
    at = 0
    for name, shape in want:
        if name not in tensors:
            check(False, f"{name} missing")
            continue
        dt, t = tensors[name]
        numel = 1
        for s in shape:
            numel *= s
        check(dt == "F32" and tuple(t.shape) == shape, f"{name}: {dt} {tuple(t.shape)} vs F32 {shape}")
        check(torch.equal(t.flatten(), raw[at:at + numel]), f"{name}: values differ from alab's buffer")
        at += numel
    check(at == raw.numel(), "the buffer holds exactly these tensors")
    cfg = json.load(open(os.path.join(d, "config.json")))
    expect = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V, "n_positions": P,
              "n_embd": C, "n_layer": L, "n_head": H, "n_inner": None, "activation_function": "gelu_new",
              "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "tie_word_embeddings": True,
              "eos_token_id": V - 1, "bos_token_id": V - 1, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
    for k, v in expect.items():
        check(cfg.get(k, "absent") == v, f"config.json {k} = {cfg.get(k, 'absent')!r}, expected {v!r}")


def torch_writes(tool, d, V, P, L, H, C):
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    sd, expected = {}, []
    for i, (name, shape) in enumerate(hf_gpt2_tensors(V, P, L, C)):
        t = torch.randn(shape) * 0.5
        if name.endswith("c_fc.weight") or name.endswith("c_attn.weight"):
            t = t.half()
        elif name == "wpe.weight" or name.endswith("ln_2.bias"):
            t = t.bfloat16()
        sd["transformer." + name] = t
        expected.append(t.float().flatten())
    for l in range(L):
        sd[f"transformer.h.{l}.attn.bias"] = torch.tril(torch.ones(P, P, dtype=torch.bool)).view(1, 1, P, P)
        sd[f"transformer.h.{l}.attn.masked_bias"] = torch.tensor(-1e4)
    sd["lm_head.weight"] = sd["transformer.wte.weight"].clone()
    write_safetensors(os.path.join(d, "model.safetensors"), sd, {"format": "pt"})
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": V, "n_positions": P,
           "n_ctx": P, "n_embd": C, "n_layer": L, "n_head": H, "activation_function": "gelu_new",
           "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "resid_pdrop": 0.1, "embd_pdrop": 0.1,
           "attn_pdrop": 0.1, "summary_type": "cls_index", "bos_token_id": 50256, "eos_token_id": 50256}
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
    open(os.path.join(d, "expected.f32"), "wb").write(torch.cat(expected).numpy().tobytes())
    r = subprocess.run([tool, "check", d], capture_output=True, text=True)
    sys.stdout.write(r.stdout + r.stderr)
    check(r.returncode == 0, "alab loads the PyTorch-written checkpoint with exactly torch's values")
    # the same file with one shape transposed (a Linear layout) must be refused, naming the tensor
    sd["transformer.h.0.attn.c_proj.weight"] = torch.randn(C, C + 1)
    expected_msg = "tensor 'transformer.h.0.attn.c_proj.weight' has shape"
    write_safetensors(os.path.join(d, "model.safetensors"), sd, {"format": "pt"})
    r = subprocess.run([tool, "check", d], capture_output=True, text=True)
    check(r.returncode == 1 and expected_msg in r.stderr, f"wrong shape refused: {r.stderr.strip()}")


def main():
    tool, tmp = sys.argv[1], sys.argv[2]
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    alab_writes(tool, os.path.join(tmp, "a"), V=300, P=32, L=3, H=4, C=16, seed=5)
    alab_writes(tool, os.path.join(tmp, "b"), V=64, P=8, L=1, H=1, C=4, seed=9)
    torch_writes(tool, os.path.join(tmp, "c"), V=100, P=24, L=2, H=2, C=12)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


main()
