#!/usr/bin/env python3
"""make_rl_loss_fixtures.py: reference values for learner/rl_loss.c and
learner/advantage.c, computed with PyTorch the way verl's core_algos.py (and
AReaL's decoupled PPO loss) compute them, written as one JSON file that
tests/test_rl_loss.c and tests/test_advantage.c read.

Run by hand from the repository root (the output is committed):

    python3 scripts/make_rl_loss_fixtures.py [--out tests/data/rl_loss/fixtures.json]

What it does:
  * random inputs (log-probs, advantages, entropies, rewards) drawn in float32,
    so that the C code, which takes float arrays, sees exactly the same values;
  * the references in float64: verl's padded (batch, response_length) layout
    with a response mask, agg_loss with the global token and sequence counts
    (its global_batch_info), compute_policy_loss_vanilla (clamped log-ratio,
    clip-higher, dual clip) times AReaL's behaviour importance weight
    exp(prox - behav) (truncated at C, or masked above C as AReaL does), the
    kl_penalty estimators, the entropy bonus; gradients by autograd;
  * GSPO's policy loss (verl compute_policy_loss_gspo: the sequence's mean
    log-ratio, straight-through per token, clamped at 10), with the same
    behaviour weights and aggregation modes, autograd gradients;
  * the advantage estimators (GRPO, Dr.GRPO, RLOO, REINFORCE++-baseline, DAPO's
    filter) with verl's dictionary-of-groups code shape; REINFORCE++'s
    per-token returns and whitening (verl
    compute_reinforce_plus_plus_outcome_advantage, masked_whiten) on token
    rewards with KL penalties and a hole in the mask; DAPO's overlong penalty
    (verl's DAPO reward manager).
The C side flattens each padded row into one sequence (offsets i * L), so the
padding positions (mask 0, random values) must not count.

The file starts with its format name and version; the generating versions
are recorded in it and in VERSIONS.txt next to it.
"""
import argparse
import json
import os
import platform
import sys
from collections import defaultdict

import numpy as np
import torch

FORMAT = "rlc-rl-loss-fixture"
VERSION = 2  # 2: GSPO loss cases, REINFORCE++ returns, the overlong penalty
SEED = 20250611

# ---- verl-style references (float64) -------------------------------------------


def masked_mean(x, mask):
    return (x * mask).sum() / mask.sum()


def agg_loss(loss_mat, mask, mode, global_tokens, global_seqs, norm):
    """verl agg_loss with global_batch_info (dp_size 1). For
    seq-mean-token-sum-norm verl's micro-batch loss is sum(seq_losses) / norm
    and its trainer scales each micro-batch by micro / mini batch size; over a
    whole step that is the (1 / S) below, which rlc folds into the loss."""
    if mode == "token-mean":
        return (loss_mat * mask).sum() / global_tokens
    seq_tok = mask.sum(dim=-1)
    seq_mask = (seq_tok > 0).to(loss_mat.dtype)
    seq_losses = (loss_mat * mask).sum(dim=-1)
    if mode == "seq-mean-token-mean":
        seq_losses = seq_losses / (seq_tok + 1e-8)
        return (seq_losses * seq_mask).sum() / global_seqs
    if mode == "seq-mean-token-sum":
        return (seq_losses * seq_mask).sum() / global_seqs
    if mode == "seq-mean-token-sum-norm":
        return seq_losses.sum() / norm / global_seqs
    raise ValueError(mode)


def policy_loss(logp, old, behav, adv, mask, cfg, agg):
    """verl compute_policy_loss_vanilla, times AReaL's behaviour weight."""
    neg_kl = torch.clamp(logp - old, min=-20.0, max=20.0)
    ratio = torch.exp(neg_kl)
    ppo_kl = masked_mean(-neg_kl, mask)
    l1 = -adv * ratio
    l2 = -adv * torch.clamp(ratio, 1 - cfg["clip_low"], 1 + cfg["clip_high"])
    c1 = torch.maximum(l1, l2)
    clipfrac = masked_mean(torch.gt(l2, l1).to(logp.dtype), mask)
    c = cfg["clip_ratio_c"]
    if c > 0:
        l3 = -adv * c
        c2 = torch.min(l3, c1)
        clipfrac_lower = masked_mean((torch.gt(c1, l3) * (adv < 0)).to(logp.dtype), mask)
        pg = torch.where(adv < 0, c2, c1)
    else:
        clipfrac_lower = torch.zeros((), dtype=logp.dtype)
        pg = c1
    if behav is not None:
        w = torch.exp(old - behav)
        cap = cfg["is_cap"]
        if cap > 0:
            over = w > cap
            w = torch.where(over, cap if cfg["is_mode"] == "truncate" else 0.0, w)
        pg = pg * w.detach()
    loss = agg_loss(pg, mask, **agg)
    return loss, clipfrac, clipfrac_lower, ppo_kl


def gspo_policy_loss(logp, old, behav, adv, mask, cfg, agg):
    """verl compute_policy_loss_gspo (the sequence ratio in GSPO-token form,
    log-ratio clamped at 10, no dual clip), times AReaL's behaviour weight, with
    the case's aggregation (verl's first version always used seq-mean-token-mean;
    its later ones take loss_agg_mode, as rlc does)."""
    neg_kl = logp - old
    seq_len = mask.sum(dim=-1).clamp(min=1)
    neg_kl_seq = (neg_kl * mask).sum(dim=-1) / seq_len
    log_ratio = logp - logp.detach() + neg_kl_seq.detach().unsqueeze(-1)
    log_ratio = torch.clamp(log_ratio, max=10.0)
    ratio = torch.exp(log_ratio)
    l1 = -adv * ratio
    l2 = -adv * torch.clamp(ratio, 1 - cfg["clip_low"], 1 + cfg["clip_high"])
    pg = torch.maximum(l1, l2)
    if behav is not None:
        w = torch.exp(old - behav)
        cap = cfg["is_cap"]
        if cap > 0:
            w = torch.where(w > cap, cap if cfg["is_mode"] == "truncate" else 0.0, w)
        pg = pg * w.detach()
    loss = agg_loss(pg, mask, **agg)
    clipfrac = masked_mean(torch.gt(l2, l1).to(logp.dtype), mask)
    ppo_kl = masked_mean(-neg_kl, mask)
    has = mask.sum(-1) > 0
    seq_ratio = torch.exp(torch.clamp(neg_kl_seq.detach(), max=10.0))[has].mean()
    return loss, clipfrac, torch.zeros((), dtype=logp.dtype), ppo_kl, seq_ratio


def kl_penalty(logp, ref, kind):
    """verl kl_penalty."""
    if kind in ("kl", "k1"):
        return logp - ref
    if kind == "abs":
        return (logp - ref).abs()
    if kind in ("mse", "k2"):
        return 0.5 * (logp - ref).square()
    if kind in ("low_var_kl", "k3"):
        kl = torch.clamp(ref - logp, min=-20, max=20)
        return torch.clamp(torch.exp(kl) - kl - 1, min=-10, max=10)
    raise ValueError(kind)


# ---- input generation ---------------------------------------------------------------


def f32(x):
    return torch.as_tensor(x, dtype=torch.float32).to(torch.float64)


def make_batch(g, B, L, lengths):
    mask = torch.zeros(B, L, dtype=torch.float64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    logp = f32(-torch.rand(B, L, generator=g) * 3 - 0.05)
    d = torch.randn(B, L, generator=g) * 0.35
    spikes = torch.rand(B, L, generator=g) < 0.12
    d = d + spikes * (torch.randint(0, 2, (B, L), generator=g) * 2 - 1) * 1.3
    old = f32(logp - d.to(torch.float64))
    behav = f32(old + torch.randn(B, L, generator=g).to(torch.float64) * 0.4)
    ref = f32(logp + torch.randn(B, L, generator=g).to(torch.float64) * 0.6)
    adv = f32(torch.randn(B, L, generator=g))
    ent = f32(torch.rand(B, L, generator=g) * 4)
    return dict(mask=mask, logp=logp, old=old, behav=behav, ref=ref, adv=adv, entropy=ent)


LOSS_CASES = [
    # name, agg mode, extra tokens / seqs beyond the batch's own (another micro-batch), norm,
    # policy settings, behaviour weights, kl (type, coef or None), entropy coef
    dict(name="ppo_token_mean", mode="token-mean", extra_tok=0, extra_seq=0, norm=0,
         policy=dict(clip_low=0.2, clip_high=0.2, clip_ratio_c=3.0, is_cap=0.0, is_mode="truncate"),
         behav=False, kl=None, entropy_coef=0.0),
    dict(name="dapo_decoupled_trunc", mode="token-mean", extra_tok=7, extra_seq=0, norm=0,
         policy=dict(clip_low=0.2, clip_high=0.28, clip_ratio_c=3.0, is_cap=2.0, is_mode="truncate"),
         behav=True, kl=("low_var_kl", 0.01), entropy_coef=0.001),
    dict(name="grpo_seq_mean_mask", mode="seq-mean-token-mean", extra_tok=0, extra_seq=0, norm=0,
         policy=dict(clip_low=0.2, clip_high=0.2, clip_ratio_c=0.0, is_cap=1.5, is_mode="mask"),
         behav=True, kl=("k1", 0.05), entropy_coef=0.0),
    dict(name="seq_sum_k2_entropy", mode="seq-mean-token-sum", extra_tok=0, extra_seq=2, norm=0,
         policy=dict(clip_low=0.1, clip_high=0.3, clip_ratio_c=2.5, is_cap=0.0, is_mode="truncate"),
         behav=False, kl=("k2", 0.1), entropy_coef=0.01),
    dict(name="drgrpo_norm_abs", mode="seq-mean-token-sum-norm", extra_tok=0, extra_seq=0, norm=-1,
         policy=dict(clip_low=0.2, clip_high=0.28, clip_ratio_c=3.0, is_cap=3.0, is_mode="truncate"),
         behav=True, kl=("abs", 0.02), entropy_coef=0.0),
    dict(name="drgrpo_norm_k3_clamped", mode="seq-mean-token-sum-norm", extra_tok=0, extra_seq=3, norm=16,
         policy=dict(clip_low=0.2, clip_high=0.2, clip_ratio_c=3.0, is_cap=2.0, is_mode="truncate"),
         behav=False, kl=("k3", 0.2), entropy_coef=0.005, k3_far=True),
    # GSPO: its paper's clip (3e-4 / 4e-4) and seq-mean-token-mean; a wider
    # clip with the decoupled weight, KL and entropy; a sequence whose mean
    # log-ratio exceeds the clamp at 10.
    dict(name="gspo_seq_mean", mode="seq-mean-token-mean", extra_tok=0, extra_seq=0, norm=0,
         policy=dict(clip_low=3e-4, clip_high=4e-4, clip_ratio_c=3.0, is_cap=0.0, is_mode="truncate",
                     loss="gspo"),
         behav=False, kl=None, entropy_coef=0.0),
    dict(name="gspo_token_mean_decoupled", mode="token-mean", extra_tok=5, extra_seq=0, norm=0,
         policy=dict(clip_low=0.02, clip_high=0.03, clip_ratio_c=3.0, is_cap=2.0, is_mode="truncate",
                     loss="gspo"),
         behav=True, kl=("low_var_kl", 0.01), entropy_coef=0.001, small_steps=True),
    dict(name="gspo_clamp_mask", mode="seq-mean-token-sum", extra_tok=0, extra_seq=1, norm=0,
         policy=dict(clip_low=0.2, clip_high=0.28, clip_ratio_c=0.0, is_cap=1.5, is_mode="mask", loss="gspo"),
         behav=True, kl=("k2", 0.05), entropy_coef=0.0, far_seq=True, small_steps=True),
]


def loss_case(g, spec):
    B, L = 5, 9
    lengths = [int(x) for x in torch.randint(1, L + 1, (B,), generator=g)]
    lengths[0] = L  # one full row
    lengths[3] = 0  # one sequence without response tokens: it must not count
    b = make_batch(g, B, L, lengths)
    if spec.get("small_steps"):
        # log-ratios of a few hundredths, so that some sequences fall inside the clip
        b["old"] = f32(b["logp"] - (b["old"] - b["logp"]).neg() * 0.1)
        b["behav"] = f32(b["old"] + (b["behav"] - b["old"]) * 0.5)
    if spec.get("far_seq"):
        b["old"][2, :] = f32(b["logp"][2, :] - 11.0)  # mean log-ratio 11: clamped at 10
    if spec.get("k3_far"):
        # some ref - logp far from 0, so that exp(.) - . - 1 > 10 is clamped
        b["ref"][0, :3] = f32(b["logp"][0, :3] + 4.0)
        b["ref"][1, 0] = f32(b["logp"][1, 0] - 12.0)
    mask = b["mask"]
    n_tok = float(mask.sum())
    n_seq = float((mask.sum(-1) > 0).sum())
    norm = float(L) if spec["norm"] == -1 else float(spec["norm"])
    agg = dict(mode=spec["mode"], global_tokens=n_tok + spec["extra_tok"],
               global_seqs=n_seq + spec["extra_seq"], norm=norm)

    logp = b["logp"].clone().requires_grad_(True)
    ent = b["entropy"].clone().requires_grad_(True)
    behav = b["behav"] if spec["behav"] else None
    seq_ratio = torch.zeros((), dtype=torch.float64)
    if spec["policy"].get("loss") == "gspo":
        pg, clipfrac, clipfrac_lower, ppo_kl, seq_ratio = gspo_policy_loss(logp, b["old"], behav, b["adv"], mask,
                                                                           spec["policy"], agg)
    else:
        pg, clipfrac, clipfrac_lower, ppo_kl = policy_loss(logp, b["old"], behav, b["adv"], mask,
                                                          spec["policy"], agg)
    total = pg
    kl_loss = torch.zeros((), dtype=torch.float64)
    if spec["kl"]:
        kind, coef = spec["kl"]
        kl_loss = coef * agg_loss(kl_penalty(logp, b["ref"], kind), mask, **agg)
        total = total + kl_loss
    ent_loss = -spec["entropy_coef"] * agg_loss(ent, mask, **agg)
    total = total + ent_loss
    total.backward()

    flat = lambda t: [float(v) for v in t.reshape(-1)]
    out = dict(
        name=spec["name"],
        nseq=B,
        offsets=[i * L for i in range(B + 1)],
        mask=[int(v) for v in mask.reshape(-1)],
        agg=agg,
        policy=spec["policy"],
        use_behav=int(spec["behav"]),
        kl_type=spec["kl"][0] if spec["kl"] else "",
        kl_coef=spec["kl"][1] if spec["kl"] else 0.0,
        entropy_coef=spec["entropy_coef"],
        logp=flat(b["logp"]), prox_logp=flat(b["old"]), behav_logp=flat(b["behav"]),
        ref_logp=flat(b["ref"]), adv=flat(b["adv"]), entropy=flat(b["entropy"]),
        expect=dict(
            loss=float(total.detach()), policy_loss=float(pg.detach()), kl_loss=float(kl_loss.detach()),
            entropy_loss=float(ent_loss.detach()), clipfrac=float(clipfrac.detach()),
            clipfrac_lower=float(clipfrac_lower.detach()), ppo_kl=float(ppo_kl.detach()),
            seq_ratio=float(seq_ratio), dlogp=flat(logp.grad), dentropy=flat(ent.grad)),
    )
    return out


def kl_reward_case(g):
    """verl apply_kl_penalty on an outcome reward placed at the last response token."""
    B, L = 4, 7
    lengths = [7, 3, 0, 5]
    b = make_batch(g, B, L, lengths)
    mask = b["mask"]
    rewards = [1.0, 0.0, 1.0, 0.5]
    scores = torch.zeros(B, L, dtype=torch.float64)
    for i, n in enumerate(lengths):
        if n:
            scores[i, n - 1] = rewards[i]
    out = dict(name="kl_in_reward", nseq=B, offsets=[i * L for i in range(B + 1)],
               mask=[int(v) for v in mask.reshape(-1)], seq_reward=rewards,
               old_logp=[float(v) for v in b["old"].reshape(-1)],
               ref_logp=[float(v) for v in b["ref"].reshape(-1)], cases=[])
    for kind, coef in (("k1", 0.1), ("low_var_kl", 0.05), ("k2", 0.2), ("abs", 0.3)):
        kld = kl_penalty(b["old"], b["ref"], kind) * mask
        token_rewards = scores - coef * kld
        out["cases"].append(dict(
            kl_type=kind, coef=coef,
            token_rewards=[float(v) for v in (token_rewards * mask).reshape(-1)],
            seq_scores=[float(v) for v in (token_rewards * mask).sum(-1)],
            kl_mean=float(masked_mean(kld, mask))))
    return out


# ---- advantages (verl's code shape, float64) -----------------------------------------


def grpo(scores, index, eps, norm_by_std):
    scores = scores.clone()
    id2score, id2mean, id2std = defaultdict(list), {}, {}
    for i in range(len(scores)):
        id2score[index[i]].append(scores[i])
    for idx, v in id2score.items():
        if len(v) == 1:
            id2mean[idx], id2std[idx] = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
        else:
            t = torch.stack(v)
            id2mean[idx], id2std[idx] = torch.mean(t), torch.std(t)
    for i in range(len(scores)):
        if norm_by_std:
            scores[i] = (scores[i] - id2mean[index[i]]) / (id2std[index[i]] + eps)
        else:
            scores[i] = scores[i] - id2mean[index[i]]
    return scores


def rloo(scores, index):
    scores = scores.clone()
    id2score, id2mean = defaultdict(list), {}
    for i in range(len(scores)):
        id2score[index[i]].append(scores[i])
    for idx, v in id2score.items():
        id2mean[idx] = torch.tensor(0.0, dtype=torch.float64) if len(v) == 1 else torch.mean(torch.stack(v))
    for i in range(len(scores)):
        n = len(id2score[index[i]])
        if n > 1:
            scores[i] = scores[i] * n / (n - 1) - id2mean[index[i]] * n / (n - 1)
    return scores


def rpp_baseline(scores, index, lengths):
    scores = scores.clone()
    id2score, id2mean = defaultdict(list), {}
    for i in range(len(scores)):
        id2score[index[i]].append(scores[i])
    for idx, v in id2score.items():
        id2mean[idx] = torch.tensor(0.0, dtype=torch.float64) if len(v) == 1 else torch.mean(torch.stack(v))
    for i in range(len(scores)):
        scores[i] = scores[i] - id2mean[index[i]]
    L = max(lengths)
    mask = torch.zeros(len(scores), L, dtype=torch.float64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    tok = scores.unsqueeze(-1).tile([1, L]) * mask
    mean = masked_mean(tok, mask)
    var = masked_mean((tok - mean) ** 2, mask) * (mask.sum() / (mask.sum() - 1))
    white = (tok - mean) * torch.rsqrt(var + 1e-8)
    # one value per sample (every response token holds the same one)
    return torch.stack([(scores[i] - mean) * torch.rsqrt(var + 1e-8) for i in range(len(scores))]), white


def masked_whiten(values, mask):
    """verl masked_whiten: (x - mean) * rsqrt(var + 1e-8), var unbiased."""
    mean = masked_mean(values, mask)
    var = masked_mean((values - mean) ** 2, mask)
    var = var * (mask.sum() / (mask.sum() - 1))
    return (values - mean) * torch.rsqrt(var + 1e-8)


def reinforce_pp(token_rewards, mask, gamma):
    """verl compute_reinforce_plus_plus_outcome_advantage."""
    returns = torch.zeros_like(token_rewards)
    running = torch.zeros(token_rewards.shape[0], dtype=token_rewards.dtype)
    for t in reversed(range(token_rewards.shape[1])):
        running = token_rewards[:, t] + gamma * running
        returns[:, t] = running
        running = running * mask[:, t]  # reset after EOS
    return masked_whiten(returns, mask) * mask, returns


def rpp_case(g):
    """Outcome scores on the last response token minus a per-token KL penalty,
    one sequence without response tokens, one with a hole in its mask."""
    B, L = 5, 8
    lengths = [8, 3, 0, 6, 5]
    mask = torch.zeros(B, L, dtype=torch.float64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    mask[3, 2] = 0  # a hole (e.g. a tool's output inside a multi-turn response)
    scores = [1.0, 0.0, 1.0, 0.5, 0.0]
    rewards = f32(-torch.rand(B, L, generator=g) * 0.02) * mask
    for i, n in enumerate(lengths):
        if n:
            rewards[i, n - 1] = float(np.float32(float(rewards[i, n - 1]) + scores[i]))
    out = dict(name="reinforce_pp", nseq=B, offsets=[i * L for i in range(B + 1)],
               mask=[int(v) for v in mask.reshape(-1)], token_rewards=[float(v) for v in rewards.reshape(-1)],
               cases=[])
    for gamma in (1.0, 0.9, 0.0):
        adv, ret = reinforce_pp(rewards, mask, gamma)
        out["cases"].append(dict(gamma=gamma, adv=[float(v) for v in adv.reshape(-1)],
                                 returns=[float(v) for v in (ret * mask).reshape(-1)]))
    return out


def overlong_cases():
    """verl's DAPO reward manager: exceed = L - (L_max - L_c);
    penalty = min(-exceed / L_c * factor, 0)."""
    out = []
    for L, L_max, L_c, factor in ((10, 100, 25, 1.0), (75, 100, 25, 1.0), (76, 100, 25, 1.0),
                                  (90, 100, 25, 1.0), (100, 100, 25, 1.0), (100, 100, 25, 0.5),
                                  (4096, 4096, 1024, 1.0), (3500, 4096, 1024, 2.0), (80, 80, 20, 1.0)):
        exceed = L - (L_max - L_c)
        out.append(dict(length=L, max_len=L_max, buffer=L_c, factor=factor,
                        penalty=min(-exceed / L_c * factor, 0.0)))
    return out


def advantage_case(g):
    sizes = [4, 4, 1, 3, 5, 2, 4]
    groups = [0]
    for n in sizes:
        groups.append(groups[-1] + n)
    nseq = groups[-1]
    index = [gi for gi, n in enumerate(sizes) for _ in range(n)]
    scores = torch.tensor(np.round(np.asarray(torch.rand(nseq, generator=g)) * 4) / 4, dtype=torch.float64)
    scores[4:8] = 0.5  # group 1: all equal (DAPO drops it, GRPO gives 0)
    scores[8] = 0.75   # group 2: a single sample
    scores[19:23] = f32(torch.randn(4, generator=g))  # group 6: continuous rewards
    lengths = [int(x) for x in torch.randint(1, 12, (nseq,), generator=g)]
    lengths[5] = 0
    keep = []
    for gi in range(len(sizes)):
        v = scores[groups[gi]:groups[gi + 1]]
        keep.append(int(len(v) == 1 or float(np.std(np.asarray(v))) > 0))
    rpp, _ = rpp_baseline(scores, index, lengths)
    return dict(name="advantages", nseq=nseq, groups=groups, scores=[float(v) for v in scores],
                lengths=lengths, eps=1e-6,
                expect=dict(grpo=[float(v) for v in grpo(scores, index, 1e-6, True)],
                            drgrpo=[float(v) for v in grpo(scores, index, 1e-6, False)],
                            rloo=[float(v) for v in rloo(scores, index)],
                            rpp_baseline=[float(v) for v in rpp],
                            dapo_keep=keep))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/data/rl_loss/fixtures.json")
    args = ap.parse_args()
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    versions = dict(python=platform.python_version(), torch=torch.__version__, numpy=np.__version__)
    doc = dict(format=FORMAT, version=VERSION,
               generator="scripts/make_rl_loss_fixtures.py", seed=SEED, versions=versions,
               loss_cases=[loss_case(g, spec) for spec in LOSS_CASES],
               kl_reward=kl_reward_case(g),
               advantage=advantage_case(g),
               reinforce_pp=rpp_case(g),
               overlong=overlong_cases())
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(os.path.dirname(args.out), "VERSIONS.txt"), "w") as f:
        f.write("RL loss and advantage fixtures, generated by scripts/make_rl_loss_fixtures.py\n")
        for k, v in versions.items():
            f.write(f"{k} {v}\n")
        f.write(f"seed {SEED}\n")
        f.write("references in float64 (inputs drawn in float32); verl core_algos.py formulas, "
                "AReaL behaviour weights; gradients by autograd\n")
        for c in doc["loss_cases"]:
            e = c["expect"]
            f.write(f"{c['name']}: {c['agg']['mode']}, loss {e['loss']:.9g}, clipfrac {e['clipfrac']:.4g}, "
                    f"clipfrac_lower {e['clipfrac_lower']:.4g}\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
