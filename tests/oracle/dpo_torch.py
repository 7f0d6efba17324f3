#!/usr/bin/python3
"""PyTorch reference for alab's DPO / IPO objective (test oracle, never shipped).

usage: dpo_torch.py POLICY_DIR REF_DIR PAIRS_JSON OUT_SAFETENSORS

PAIRS_JSON is {"T", "beta", "loss_type" ("sigmoid" | "ipo"), "eot", "rpo_alpha",
"pairs": [[prompt ids], [chosen ids], [rejected ids]], ...} with each
response already ending in end-of-text. Rows are built here as TRL builds
them (prompt + response, right-padded; labels only on response tokens), then
  logp(y) = sum of log softmax over the response tokens (divided by the
            response length for ipo, as TRL's concatenated_forward does)
  z = (pi_c - ref_c) - (pi_r - ref_r)
  sigmoid: loss = mean -logsigmoid(beta z);  ipo: mean (z - 1/(2 beta))^2
  plus, when rpo_alpha > 0, rpo_alpha * nll_loss, TRL's RPO term: the
  cross-entropy over every chosen response token of the batch
Writes "loss", "policy_chosen_logps", "policy_rejected_logps",
"ref_chosen_logps", "ref_rejected_logps", "nll_loss", the TRL metrics ("rewards_chosen",
"rewards_rejected", "rewards_accuracies", "rewards_margins") and every
parameter gradient of the policy ("grad.<name>").
"""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import gpt2, read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def load(mdir, grad):
    strip = lambda k: k[len("transformer."):] if k.startswith("transformer.") else k
    P = {strip(k): v.double().requires_grad_(grad) for k, v in read_safetensors(f"{mdir}/model.safetensors").items()}
    return P, json.load(open(f"{mdir}/config.json"))


def logps(P, cfg, rows, T, eot, per_token):
    """rows: list of (prompt ids, response ids); returns [len(rows)] log-probs
    and the rows' response token counts."""
    idx = torch.full((len(rows), T), eot, dtype=torch.long)
    labels = torch.full((len(rows), T), -100, dtype=torch.long)
    for r, (p, y) in enumerate(rows):
        seq = p + y
        assert len(seq) <= T, "the oracle's rows are never truncated"
        idx[r, : len(seq)] = torch.tensor(seq)
        # position t predicts token t + 1: labels on the response's tokens only
        for t in range(len(p) - 1, len(seq) - 1):
            labels[r, t] = seq[t + 1]
    logits = gpt2(P, cfg, idx)
    lp = torch.log_softmax(logits, dim=-1)
    mask = labels != -100
    tok = torch.gather(lp, 2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
    s, n = tok.sum(-1), mask.sum(-1)
    return (s / n if per_token else s), n


def main():
    pdir, rdir, pairs_path, out_path = sys.argv[1:5]
    spec = json.load(open(pairs_path))
    T, beta, eot, ipo = spec["T"], spec["beta"], spec["eot"], spec["loss_type"] == "ipo"
    alpha = spec.get("rpo_alpha", 0)
    pairs = spec["pairs"]
    rows = [(p[0], p[1]) for p in pairs] + [(p[0], p[2]) for p in pairs]
    P, cfg = load(pdir, True)
    R, rcfg = load(rdir, False)
    B = len(pairs)
    with torch.no_grad():
        ref, _ = logps(R, rcfg, rows, T, eot, ipo)
    pol, ntok = logps(P, cfg, rows, T, eot, ipo)
    pc, pr, rc, rr = pol[:B], pol[B:], ref[:B], ref[B:]
    z = (pc - rc) - (pr - rr)
    losses = (z - 1 / (2 * beta)) ** 2 if ipo else -torch.nn.functional.logsigmoid(beta * z)
    summed = pc * ntok[:B] if ipo else pc
    nll = -summed.sum() / ntok[:B].sum()
    loss = losses.mean() + (alpha * nll if alpha > 0 else 0)
    loss.backward()
    wc, wr = beta * (pc - rc).detach(), beta * (pr - rr).detach()
    out = {"loss": loss.detach().reshape(1), "policy_chosen_logps": pc.detach(), "policy_rejected_logps": pr.detach(),
           "ref_chosen_logps": rc, "ref_rejected_logps": rr, "nll_loss": nll.detach().reshape(1),
           "rewards_chosen": wc.mean().reshape(1), "rewards_rejected": wr.mean().reshape(1),
           "rewards_accuracies": (wc > wr).double().mean().reshape(1), "rewards_margins": (wc - wr).mean().reshape(1)}
    for k, v in P.items():
        out["grad." + k] = v.grad.detach().clone()
    write_safetensors(out_path, {k: v.float() for k, v in out.items()})


if __name__ == "__main__":
    main()
