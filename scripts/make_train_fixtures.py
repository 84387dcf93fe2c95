#!/usr/bin/env python3
# make_train_fixtures.py: builds the PyTorch training-parity fixtures under
# tests/data/train/ from the tiny Hugging Face models of tests/data/hf/
# (written by scripts/make_hf_fixtures.py). For each model and one fixed
# packed batch of three documents it records what transformers computes:
# the per-token log-probs and entropies, the loss (mean of -logprob over the
# tokens that have a target) and the gradient of that loss with respect to
# every parameter. tests/test_train_parity.c reads them.
#
# The packed batch is computed the unambiguous way: each document runs
# through the model on its own (positions from 0, no attention across
# documents) and the per-token results are concatenated. The references are
# computed in float64 from the float32 (qwen3: bfloat16) weights, so that
# they are the exact values the C float32 path approximates; the float32
# PyTorch results are computed too and their distance to float64 is logged
# in VERSIONS.txt as the float32 noise floor.
#
# Run by hand, not by CI (needs torch, transformers, safetensors, numpy):
#     python3 scripts/make_train_fixtures.py           # writes tests/data/train/
#     python3 scripts/make_train_fixtures.py --check   # recomputes, compares, writes nothing
#
# File format, tests/data/train/<model>.bin, all little-endian: a list of
# named records, so that new records (e.g. AdamW steps) can be added without
# changing readers of the old ones.
#     char  magic[8]   "RLCTRAIN"
#     u32   version    1
#     u32   n_records
#     n_records times:
#         u32  name_len, char name[name_len]     (UTF-8, no NUL)
#         u32  dtype                             0 = f32, 1 = i32, 2 = bytes (UTF-8 text)
#         u32  ndim, u32 dims[ndim]
#         data                                   prod(dims) elements
#     char  end[8]     "RLCTREND"
# Records written now:
#     model              bytes   the fixture directory under tests/data/hf/
#     batch/tokens       i32 (T)
#     batch/cu_seqlens   i32 (n_seqs + 1)
#     batch/targets      i32 (T)      -1 where a position has no target
#     logprobs           f32 (T)      0 where no target
#     entropy            f32 (T)      0 where no target
#     loss               f32 (1)      mean over targets of -logprob
#     grad/<hf name>     f32 (shape)  dloss/dparam for every parameter
#                                     (tied models: no lm_head.weight; the
#                                     embedding's gradient holds both uses)
#
# Adding a record: write a function `record_<what>(rec, ctx)` that calls
# rec.add(name, array) and append it to RECORDERS; ctx holds the loaded
# model (float32 and float64 copies), the batch and anything earlier
# recorders left in it (see record_loss_and_grads).

import argparse
import os
import platform
import struct
import sys

import numpy as np
import safetensors
import torch
import transformers
from transformers import AutoModelForCausalLM

MAGIC, END, VERSION = b"RLCTRAIN", b"RLCTREND", 1
DTYPES = {np.dtype("<f4"): 0, np.dtype("<i4"): 1, np.dtype("u1"): 2}
SEED = 20240712
MODELS = ("qwen2", "qwen3")  # tied + q/k/v biases; untied + q/k norm + bf16 weights
DOC_LENS = (7, 4, 9)
N_MASKED_PROMPT = 2  # the first tokens of document 0 have no target (a prompt)


class Records:
    """An ordered list of named arrays, written in the format above."""

    def __init__(self):
        self.items = []

    def add(self, name, value):
        if isinstance(value, str):
            arr = np.frombuffer(value.encode(), dtype="u1")
        elif isinstance(value, torch.Tensor):
            arr = value.detach().cpu().numpy()
        else:
            arr = np.asarray(value)
        if arr.dtype.kind == "f":
            arr = arr.astype("<f4")
        elif arr.dtype.kind in "iu" and arr.dtype != np.dtype("u1"):
            arr = arr.astype("<i4")
        assert all(n != name for n, _ in self.items), name
        self.items.append((name, np.ascontiguousarray(arr)))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(MAGIC)
            f.write(struct.pack("<II", VERSION, len(self.items)))
            for name, arr in self.items:
                b = name.encode()
                f.write(struct.pack("<I", len(b)) + b)
                f.write(struct.pack("<II", DTYPES[arr.dtype], arr.ndim))
                f.write(struct.pack(f"<{arr.ndim}I", *arr.shape))
                f.write(arr.tobytes())
            f.write(END)


def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == MAGIC and data[-8:] == END, path
    ver, n = struct.unpack_from("<II", data, 8)
    assert ver == VERSION, (path, ver)
    off, out = 16, {}
    inv = {v: k for k, v in DTYPES.items()}
    for _ in range(n):
        (ln,) = struct.unpack_from("<I", data, off)
        name = data[off + 4: off + 4 + ln].decode()
        off += 4 + ln
        dt, nd = struct.unpack_from("<II", data, off)
        dims = struct.unpack_from(f"<{nd}I", data, off + 8)
        off += 8 + 4 * nd
        count = int(np.prod(dims)) if nd else 1
        arr = np.frombuffer(data, inv[dt], count, off).reshape(dims)
        off += count * inv[dt].itemsize
        out[name] = arr
    assert off == len(data) - 8, path
    return out


def make_batch(V, gen):
    """Three documents of random tokens; targets inside each document."""
    tokens = torch.randint(0, V, (sum(DOC_LENS),), generator=gen)
    cu = [0]
    for n in DOC_LENS:
        cu.append(cu[-1] + n)
    targets = torch.full_like(tokens, -1)
    for s in range(len(DOC_LENS)):
        targets[cu[s]:cu[s + 1] - 1] = tokens[cu[s] + 1:cu[s + 1]]
    targets[:N_MASKED_PROMPT] = -1
    return dict(tokens=tokens, cu=cu, targets=targets)


def per_token(model, batch):
    """Log-probs and entropies of the packed batch, one forward per document."""
    lps, ents = [], []
    cu = batch["cu"]
    for s in range(len(cu) - 1):
        ids = batch["tokens"][cu[s]:cu[s + 1]].unsqueeze(0)
        logits = model(input_ids=ids, use_cache=False).logits[0]
        logp = torch.log_softmax(logits, dim=-1)
        tgt = batch["targets"][cu[s]:cu[s + 1]]
        lp = logp.gather(1, tgt.clamp(min=0).unsqueeze(1)).squeeze(1)
        ent = -(logp.exp() * logp).sum(-1)
        mask = tgt >= 0
        lps.append(torch.where(mask, lp, torch.zeros_like(lp)))
        ents.append(torch.where(mask, ent, torch.zeros_like(ent)))
    return torch.cat(lps), torch.cat(ents)


def loss_of(logprobs, batch):
    mask = batch["targets"] >= 0
    return -(logprobs * mask).sum() / mask.sum()


# ---- recorders: each adds its records; later ones may read ctx ---------------


def record_batch(rec, ctx):
    b = ctx["batch"]
    rec.add("model", ctx["name"])
    rec.add("batch/tokens", b["tokens"].numpy())
    rec.add("batch/cu_seqlens", np.asarray(b["cu"]))
    rec.add("batch/targets", b["targets"].numpy())


def record_loss_and_grads(rec, ctx):
    b = ctx["batch"]
    results = {}
    for key in ("model32", "model64"):
        model = ctx[key]
        model.zero_grad(set_to_none=True)
        lp, ent = per_token(model, b)
        loss = loss_of(lp, b)
        loss.backward()
        grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
        results[key] = (lp.detach(), ent.detach(), loss.detach(), grads)
    lp, ent, loss, grads = results["model64"]
    rec.add("logprobs", lp)
    rec.add("entropy", ent)
    rec.add("loss", loss.reshape(1))
    for n, g in grads.items():
        rec.add("grad/" + n, g)
    # The float32 noise floor: torch float32 against float64.
    lp32, _, loss32, g32 = results["model32"]
    worst = max(((g32[n].double() - g).norm() / g.norm()).item() for n, g in grads.items())
    ctx["log"].append(f"  loss {loss.item():.6f} over {int((b['targets'] >= 0).sum())} targets; "
                      f"torch float32 vs float64: loss {abs(loss32.item() - loss.item()):.2e}, "
                      f"logprobs max|d| {(lp32.double() - lp).abs().max().item():.2e}, "
                      f"worst tensor gradient rel l2 {worst:.2e}")
    ctx["loss"] = loss.item()


RECORDERS = [record_batch, record_loss_and_grads]


# ---- AdamW steps and the rlc-checkpoint check (learner/: optim, checkpoint) ---
# Added records:
#     adamw/config   f32 (9)   lr, beta1, beta2, eps, weight_decay, max_grad_norm,
#                              warmup_steps, total_steps, min_lr_ratio
#     adamw/losses   f32 (11)  the loss before each of 10 AdamW steps on the fixed
#                              batch, then the loss after the 10th
# tests/test_adamw_parity.c reproduces them with learner/optim.h.

ADAMW = dict(lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, max_grad_norm=1.0,
             warmup_steps=2, total_steps=10, min_lr_ratio=0.1)
ADAMW_STEPS = 10


def adamw_lr_factor(step, c=ADAMW):
    """Warm-up then cosine to min_lr_ratio, as optim_schedule_lr (transformers'
    get_cosine_with_min_lr_schedule_with_warmup)."""
    import math
    w, t, r = c["warmup_steps"], c["total_steps"], c["min_lr_ratio"]
    if step < w:
        return step / w
    p = min(1.0, (step - w) / max(1, t - w))
    return r + (1 - r) * 0.5 * (1 + math.cos(math.pi * p))


def adamw_losses(model, batch, c=ADAMW):
    """10 steps of torch.optim.AdamW (no decay on 1-D tensors), clipping by
    global norm before each, LambdaLR schedule; the losses before each step
    and after the last."""
    named = list(model.named_parameters())
    groups = [dict(params=[p for _, p in named if p.ndim >= 2], weight_decay=c["weight_decay"]),
              dict(params=[p for _, p in named if p.ndim < 2], weight_decay=0.0)]
    opt = torch.optim.AdamW(groups, lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"],
                            foreach=False)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, adamw_lr_factor)
    out = []
    for _ in range(ADAMW_STEPS):
        opt.zero_grad(set_to_none=True)
        lp, _ = per_token(model, batch)
        loss = loss_of(lp, batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c["max_grad_norm"])
        opt.step()
        sched.step()
        out.append(loss.item())
    with torch.no_grad():
        lp, _ = per_token(model, batch)
        out.append(loss_of(lp, batch).item())
    return out


def record_adamw_steps(rec, ctx):
    import copy
    c = ADAMW
    rec.add("adamw/config", np.array([c["lr"], c["beta1"], c["beta2"], c["eps"], c["weight_decay"],
                                      c["max_grad_norm"], c["warmup_steps"], c["total_steps"],
                                      c["min_lr_ratio"]], dtype=np.float64))
    l64 = adamw_losses(copy.deepcopy(ctx["model64"]), ctx["batch"])
    l32 = adamw_losses(copy.deepcopy(ctx["model32"]), ctx["batch"])
    rec.add("adamw/losses", np.array(l64))
    spread = max(abs(a - b) / abs(b) for a, b in zip(l32, l64))
    ctx["log"].append(f"  adamw: {ADAMW_STEPS} steps {ADAMW}: loss {l64[0]:.6f} -> {l64[-1]:.6f}; "
                      f"torch float32 vs float64 losses max rel {spread:.2e}")


_rlc_export = {}


def check_rlc_checkpoint(rec, ctx):
    """transformers' from_pretrained on a checkpoint written by rlc: the same
    logits as rlc computed before saving. tests/test_checkpoint run with
    RLC_EXPORT_CKPT=DIR writes DIR/<model>/checkpoints/step-5 (weights moved by
    one AdamW step) and DIR/<model>/rlc_logits.bin ("RLCLOGIT", u32 version 1,
    u32 n, u32 V, i32 tokens[n], f32 logits[n*V]). The binary is found through
    $RLC_TEST_CHECKPOINT or build*/test_checkpoint; without one the check is
    skipped (logged). Adds no record."""
    import glob
    import subprocess
    import tempfile
    name = ctx["name"]
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    if "dir" not in _rlc_export:
        bins = [os.environ.get("RLC_TEST_CHECKPOINT", "")] + sorted(
            glob.glob(os.path.join(root, "build*", "test_checkpoint")), key=os.path.getmtime, reverse=True)
        bins = [b for b in bins if b and os.access(b, os.X_OK)]
        _rlc_export["dir"] = None
        if bins:
            out = tempfile.mkdtemp(prefix="rlc_export_")
            env = dict(os.environ, RLC_EXPORT_CKPT=out, RLC_SOURCE=root,
                       RLC_DATA=os.environ.get("RLC_DATA", os.path.join(root, "..", "shared", "data")))
            r = subprocess.run([bins[0]], env=env, cwd=out, capture_output=True, text=True)
            if r.returncode == 0:
                _rlc_export["dir"] = out
                _rlc_export["bin"] = bins[0]
            else:
                ctx["log"].append(f"  rlc checkpoint: {bins[0]} failed: {r.stdout[-400:]} {r.stderr[-400:]}")
    out = _rlc_export["dir"]
    if not out:
        ctx["log"].append("  rlc checkpoint: skipped (no built tests/test_checkpoint; set RLC_TEST_CHECKPOINT)")
        return
    step_dir = os.path.join(out, name, "checkpoints", "step-5")
    with open(os.path.join(out, name, "rlc_logits.bin"), "rb") as f:
        data = f.read()
    assert data[:8] == b"RLCLOGIT", "rlc_logits.bin: bad magic"
    ver, n, V = struct.unpack_from("<III", data, 8)
    assert ver == 1, ver
    tokens = np.frombuffer(data, "<i4", n, 20)
    ref = np.frombuffer(data, "<f4", n * V, 20 + 4 * n).reshape(n, V)
    model = AutoModelForCausalLM.from_pretrained(step_dir, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor(tokens, dtype=torch.long).unsqueeze(0),
                       use_cache=False).logits[0].numpy()
    d = np.abs(logits.astype(np.float64) - ref).max()
    rel = d / np.abs(ref).max()
    ok = rel < 1e-5
    ctx["log"].append(f"  rlc checkpoint: from_pretrained({os.path.relpath(step_dir, out)}) of an rlc-written "
                      f"checkpoint: logits of {n} tokens max|d| {d:.2e} (rel {rel:.2e}) vs rlc's own: "
                      f"{'PASS' if ok else 'FAIL'}")
    assert ok, (name, d, rel)


RECORDERS += [record_adamw_steps, check_rlc_checkpoint]


def build(name, hf_dir, out_dir, check, log):
    path = os.path.join(hf_dir, name)
    model32 = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                   attn_implementation="eager").eval()
    model64 = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                   attn_implementation="eager").eval().double()
    gen = torch.Generator().manual_seed(SEED + sum(map(ord, name)))
    batch = make_batch(model32.config.vocab_size, gen)
    n_params = sum(p.numel() for p in model32.parameters())
    log.append(f"{name}: {n_params} parameters, documents {list(DOC_LENS)}, "
               f"first {N_MASKED_PROMPT} targets masked")
    ctx = dict(name=name, model32=model32, model64=model64, batch=batch, log=log)
    rec = Records()
    for r in RECORDERS:
        r(rec, ctx)
    out = os.path.join(out_dir, f"{name}.bin")
    if check:
        old = read_records(out)
        for k, arr in rec.items:
            a, b = arr, old[k]
            assert a.shape == b.shape and a.dtype == b.dtype, k
            if a.dtype.kind == "f":
                d = np.abs(a.astype(np.float64) - b).max() / max(np.abs(b).max(), 1e-30)
                assert d < 1e-6, (k, d)
            else:
                assert (a == b).all(), k
        log.append(f"  check: {len(rec.items)} records match {out}")
        return
    tmp = out + ".tmp"
    rec.write(tmp)
    back = read_records(tmp)
    assert len(back) == len(rec.items)
    os.replace(tmp, out)
    log.append(f"  wrote {out} ({os.path.getsize(out)} bytes, {len(rec.items)} records)")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description="PyTorch training-parity fixtures")
    ap.add_argument("--hf", default=os.path.join(here, "..", "tests", "data", "hf"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "train"))
    ap.add_argument("--check", action="store_true",
                    help="recompute and compare with the committed fixtures; write nothing")
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)  # reproducible reductions
    transformers.utils.logging.disable_progress_bar()
    log = []
    for name in MODELS:
        build(name, os.path.normpath(args.hf), out, args.check, log)
    head = [
        "Training parity fixtures, generated by scripts/make_train_fixtures.py",
        f"python {platform.python_version()}",
        f"torch {torch.__version__}",
        f"transformers {transformers.__version__}",
        f"safetensors {safetensors.__version__}",
        f"numpy {np.__version__}",
        f"seed {SEED}",
        "references computed in float64 from the checkpoint weights (attn_implementation=eager,"
        " one forward per document)",
        "",
    ]
    text = "\n".join(head + log) + "\n"
    print(text, end="")
    if not args.check:
        with open(os.path.join(out, "VERSIONS.txt"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
