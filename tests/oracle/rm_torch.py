#!/usr/bin/python3
"""PyTorch reference for alab's reward model (test oracle, never shipped).

usage: rm_torch.py MODEL_DIR BATCH_JSON OUT_SAFETENSORS

MODEL_DIR is read as transformers reads a GPT2ForSequenceClassification
checkpoint: config.json must say so with num_labels 1 and a pad_token_id;
model.safetensors holds "transformer.*" and "score.weight" [1, n_embd] (no
bias). BATCH_JSON is {"B" (pairs), "T", "inputs" [2B*T] (rows 0..B-1 the
chosen sequences, B..2B-1 the rejected), "margin" [B], "center"}. The reward
of a row is read at its rightmost token that is not pad_token_id (as
GPT2ForSequenceClassification does), and the loss is TRL's RewardTrainer's:
    -logsigmoid(r_c - r_r - margin).mean() + center * ((r_c + r_r) ** 2).mean()
Writes "values" [2B], "pos" [2B], "loss" and every gradient ("grad.<name>").
"""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import gpt2_hidden, read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)


def main():
    mdir, batch_path, out_path = sys.argv[1:4]
    cfg = json.load(open(f"{mdir}/config.json"))
    assert cfg["architectures"] == ["GPT2ForSequenceClassification"], cfg["architectures"]
    assert cfg.get("num_labels", len(cfg.get("id2label", {}))) == 1, "one label"
    pad = cfg["pad_token_id"]
    raw = read_safetensors(f"{mdir}/model.safetensors")
    assert list(raw["score.weight"].shape) == [1, cfg["n_embd"]], raw["score.weight"].shape
    assert "score.bias" not in raw
    assert all(k == "score.weight" or k.startswith("transformer.") for k in raw), sorted(raw)
    P = {(k[len("transformer."):] if k.startswith("transformer.") else k): v.requires_grad_(True) for k, v in raw.items()}
    batch = json.load(open(batch_path))
    B, T = batch["B"], batch["T"]
    idx = torch.tensor(batch["inputs"], dtype=torch.long).view(2 * B, T)
    nonpad = (idx != pad).long()
    pos = (torch.arange(T) * nonpad).argmax(-1)  # rightmost non-pad token
    h = gpt2_hidden(P, cfg, idx)
    values = h[torch.arange(2 * B), pos] @ P["score.weight"].t()
    values = values.squeeze(-1)
    rc, rr = values[:B], values[B:]
    margin = torch.tensor(batch["margin"], dtype=torch.float32)
    loss = -torch.nn.functional.logsigmoid(rc - rr - margin).mean() + batch["center"] * ((rc + rr) ** 2).mean()
    loss.backward()
    out = {"values": values.detach(), "pos": pos.to(torch.float32), "loss": loss.detach().reshape(1)}
    for k, v in P.items():
        out["grad." + k] = v.grad.detach().clone()
    write_safetensors(out_path, out)


if __name__ == "__main__":
    main()
