#!/usr/bin/python3
"""PyTorch reference for alab's masked LM objective (test oracle, never shipped).

usage: masked_lm_torch.py MODEL_DIR BATCH_JSON OUT_SAFETENSORS

BATCH_JSON is {"B", "T", "inputs", "targets", "mask"} ([B*T] each). The loss
is cross-entropy over the positions whose mask is 1, averaged over them:
    loss = sum_i mask_i * CE_i / sum_i mask_i
(targets where the mask is 0 are any valid ids: the mask alone excludes
them). Writes "loss" and every parameter gradient ("grad.<name>") of the
GPT-2 of tests/oracle/gpt2_torch.py.
"""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import gpt2, read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)


def main():
    mdir, batch_path, out_path = sys.argv[1:4]
    cfg = json.load(open(f"{mdir}/config.json"))
    strip = lambda k: k[len("transformer."):] if k.startswith("transformer.") else k
    P = {strip(k): v.requires_grad_(True) for k, v in read_safetensors(f"{mdir}/model.safetensors").items()}
    batch = json.load(open(batch_path))
    B, T = batch["B"], batch["T"]
    idx = torch.tensor(batch["inputs"], dtype=torch.long).view(B, T)
    tgt = torch.tensor(batch["targets"], dtype=torch.long).view(-1)
    mask = torch.tensor(batch["mask"], dtype=torch.float32).view(-1)
    logits = gpt2(P, cfg, idx)
    ce = torch.nn.functional.cross_entropy(logits.view(B * T, -1), tgt, reduction="none")
    loss = (ce * mask).sum() / mask.sum()
    loss.backward()
    out = {"loss": loss.detach().reshape(1)}
    for k, v in P.items():
        out["grad." + k] = v.grad.detach().clone()
    write_safetensors(out_path, out)


if __name__ == "__main__":
    main()
