#!/usr/bin/python3
"""PyTorch reference for alab's RLOO and PPO losses (test oracle, never shipped).

usage: rl_torch.py MODEL_DIR BATCH_JSON OUT_SAFETENSORS

MODEL_DIR: a GPT-2 with score.weight [1, n_embd] (the value head). BATCH_JSON:
{"algo": "ppo"|"rloo", "B", "T", "R", "k", "inputs" [B*T], "start" [B],
"len" [B], "old_lp", "ref_lp", "old_v" [B*R], "score" [B], "beta", "gamma",
"lam", "clip", "clip_v", "vf_coef", "whiten"}. Row b's response token t is
inputs[b, start[b] + t], predicted (and valued) at position start[b] + t - 1.
TRL's conventions: k1 KL per token, the score added at the last token, GAE
from the rollout's values, masked_whiten (unbiased variance, eps 1e-8),
torch.max of the unclipped and clipped surrogate, value clipping around the
rollout's values, masked means over response tokens. Writes lp, v, kl,
rewards, adv, ret, loss and grad.<name> of every parameter.
"""
import json, os, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt2_torch import gpt2_hidden, read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)


def main():
    mdir, batch_path, out_path = sys.argv[1:4]
    cfg = json.load(open(f"{mdir}/config.json"))
    raw = read_safetensors(f"{mdir}/model.safetensors")
    P = {(k[len("transformer."):] if k.startswith("transformer.") else k): v.requires_grad_(True) for k, v in raw.items()}
    j = json.load(open(batch_path))
    B, T, R = j["B"], j["T"], j["R"]
    idx = torch.tensor(j["inputs"], dtype=torch.long).view(B, T)
    start = torch.tensor(j["start"], dtype=torch.long)
    ln = torch.tensor(j["len"], dtype=torch.long)
    f = lambda k: torch.tensor(j[k], dtype=torch.float64).view(B, R)
    old_lp, ref_lp, old_v = f("old_lp"), f("ref_lp"), f("old_v")
    score = torch.tensor(j["score"], dtype=torch.float64)
    t_idx = torch.arange(R)
    mask = t_idx[None, :] < ln[:, None]
    pos = (start[:, None] + t_idx[None, :] - 1).clamp(0, T - 1)  # the row predicting token t
    tok = idx.gather(1, (pos + 1).clamp(max=T - 1))
    h = gpt2_hidden(P, cfg, idx)
    logp = torch.log_softmax(h @ P["wte.weight"].t(), -1)
    lp = logp[torch.arange(B)[:, None], pos].gather(2, tok[:, :, None]).squeeze(-1)
    lp = torch.where(mask, lp, torch.zeros_like(lp))
    vall = (h @ P["score.weight"].t()).squeeze(-1)
    v = torch.where(mask, vall[torch.arange(B)[:, None], pos], torch.zeros_like(lp))
    lp64, v64 = lp.double(), v.double()
    # the rollout's rewards: k1 KL, the score at the last token
    kl = torch.where(mask, old_lp - ref_lp, torch.zeros_like(old_lp))
    rewards = -j["beta"] * kl
    rewards[torch.arange(B), ln - 1] += score
    mmean = lambda x: (x * mask).sum() / mask.sum()
    out = {}
    if j["algo"] == "ppo":
        adv = torch.zeros(B, R, dtype=torch.float64)
        last = torch.zeros(B, dtype=torch.float64)
        for t in reversed(range(R)):
            nxt = torch.where(t + 1 < ln, old_v[:, min(t + 1, R - 1)], torch.zeros(B, dtype=torch.float64))
            delta = rewards[:, t] + j["gamma"] * nxt - old_v[:, t]
            last = torch.where(t < ln, delta + j["gamma"] * j["lam"] * last, torch.zeros_like(last))
            adv[:, t] = last
        ret = torch.where(mask, adv + old_v, torch.zeros_like(adv))
        if j["whiten"]:
            mu = mmean(adv)
            var = ((adv - mu) ** 2 * mask).sum() / (mask.sum() - 1)
            adv = torch.where(mask, (adv - mu) * torch.rsqrt(var + 1e-8), torch.zeros_like(adv))
        ratio = torch.exp(lp64 - old_lp)
        pg = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 1 - j["clip"], 1 + j["clip"]))
        vclip = torch.clamp(v64, old_v - j["clip_v"], old_v + j["clip_v"])
        vf = 0.5 * mmean(torch.max((v64 - ret) ** 2, (vclip - ret) ** 2))
        loss = mmean(pg) + j["vf_coef"] * vf
        out["ret"] = ret.float()
    else:
        k = j["k"]
        rl = score - j["beta"] * kl.sum(1)
        g = rl.view(-1, k)
        adv = ((g - (g.sum(1, keepdim=True) - g) / (k - 1))).view(-1)
        ratio = torch.exp(((lp64 - old_lp) * mask).sum(1))
        loss = torch.max(-adv * ratio, -adv * torch.clamp(ratio, 1 - j["clip"], 1 + j["clip"])).mean()
    loss.backward()
    out.update({"lp": lp.detach(), "v": v.detach(), "kl": kl.float(), "rewards": rewards.float(), "adv": adv.float(),
                "loss": loss.detach().float().reshape(1)})
    for name, p in P.items():
        out["grad." + name] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
    write_safetensors(out_path, {k: v.contiguous() for k, v in out.items()})


if __name__ == "__main__":
    main()
