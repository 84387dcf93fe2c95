#!/usr/bin/env python3
# make_hf_fixtures.py: builds the Hugging Face parity fixtures under
# tests/data/hf/: tiny random models of each family rlc loads (Llama untied,
# Llama tied with llama3 rope scaling, Qwen2 with q/k/v biases, Qwen3 with q/k
# norm, a head_dim that is not hidden/heads and bf16 weights), and for each the
# float32 logits of a few prompts and their greedy continuation, computed by
# transformers (eager attention, no KV cache). tests/test_hf_parity.c and
# tests/test_kvcache.c read them.
#
# Run by hand, not by CI (needs torch, transformers, safetensors from PyPI):
#     python3 scripts/make_hf_fixtures.py            # writes tests/data/hf/
#     python3 scripts/make_hf_fixtures.py --check    # recomputes, compares, writes nothing
#
# Output, per model <name>:
#     tests/data/hf/<name>/config.json        the Hub form of the config (rope_theta,
#                                             rope_scaling, torch_dtype), as real
#                                             checkpoints write it
#     tests/data/hf/<name>/model.safetensors  float32, or bfloat16 for qwen3
#     tests/data/hf/<name>/config.transformers5.json  the same config as
#                                             transformers 5 save_pretrained writes it
#                                             (rope_parameters, dtype)
#     tests/data/hf/<name>/reference.bin      the references, format below
# and tests/data/hf/VERSIONS.txt: the generating versions, seed and per-prompt facts.
#
# reference.bin, all little-endian:
#     char  magic[8]       "RLCHFREF"
#     u32   version        1
#     u32   vocab_size     V
#     u32   n_prompts      P
#     u32   n_gen          G (greedy tokens per prompt)
#     P times:
#         u32 n            prompt length
#         i32 tokens[n]
#         f32 logits[n*V]  row t: the logits after tokens[0..t]
#         i32 greedy[G]    argmax continuation, each step a full forward (no cache)
#         f32 min_margin   smallest (top1 - top2) / max|logit| along the greedy path
#     char  end[8]         "RLCHFEND"

import argparse
import json
import os
import platform
import shutil
import struct
import sys

import numpy as np
import safetensors
import torch
import transformers
from transformers import (AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

SEED = 20240611
N_GEN = 32
PROMPT_LENS = (5, 9, 14, 20)
# A prompt is kept when every greedy step's top-two margin, relative to the
# largest |logit| of that row, is at least this: far above the 1e-4 relative
# error the C test allows, so the C model cannot flip a greedy token.
MIN_REL_MARGIN = 2e-3
# Greedy paths that settle on one token teach little: demand some variety.
MIN_DISTINCT = 6
MAGIC, END, VERSION = b"RLCHFREF", b"RLCHFEND", 1

COMMON = dict(vocab_size=256, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, intermediate_size=128, rms_norm_eps=1e-6,
              max_position_embeddings=512)

# Each spec: the transformers classes, the constructor arguments (classic
# rope_theta / rope_scaling, which transformers 5 folds into rope_parameters),
# the dtype saved, and the Hub-form config.json keys written afterwards.
SPECS = [
    dict(name="llama", config_cls=LlamaConfig, model_cls=LlamaForCausalLM, dtype=torch.float32,
         args=dict(COMMON, tie_word_embeddings=False, rope_theta=10000.0),
         hub=dict(model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=10000.0,
                  rope_scaling=None, attention_bias=False, mlp_bias=False, hidden_act="silu",
                  tie_word_embeddings=False),
         n_eos=1),
    dict(name="llama3_tied", config_cls=LlamaConfig, model_cls=LlamaForCausalLM,
         dtype=torch.float32,
         args=dict(COMMON, tie_word_embeddings=True, rope_theta=500000.0,
                   rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                     high_freq_factor=4.0,
                                     original_max_position_embeddings=64)),
         hub=dict(model_type="llama", architectures=["LlamaForCausalLM"], rope_theta=500000.0,
                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                    high_freq_factor=4.0,
                                    original_max_position_embeddings=64),
                  attention_bias=False, mlp_bias=False, hidden_act="silu",
                  tie_word_embeddings=True),
         n_eos=3),  # Llama-3 lists several eos ids
    dict(name="qwen2", config_cls=Qwen2Config, model_cls=Qwen2ForCausalLM, dtype=torch.float32,
         args=dict(COMMON, tie_word_embeddings=True, rope_theta=1000000.0,
                   use_sliding_window=False),
         hub=dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], rope_theta=1000000.0,
                  hidden_act="silu", tie_word_embeddings=True, use_sliding_window=False,
                  sliding_window=512, max_window_layers=2),
         n_eos=1),
    dict(name="qwen3", config_cls=Qwen3Config, model_cls=Qwen3ForCausalLM, dtype=torch.bfloat16,
         args=dict(COMMON, head_dim=32, tie_word_embeddings=False, rope_theta=1000000.0,
                   attention_bias=False, use_sliding_window=False),
         hub=dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], rope_theta=1000000.0,
                  head_dim=32, attention_bias=False, hidden_act="silu",
                  tie_word_embeddings=False, use_sliding_window=False, sliding_window=None,
                  max_window_layers=2),
         n_eos=1),
]


def make_config(spec):
    args = dict(spec["args"])
    scaling = args.pop("rope_scaling", None)
    theta = args.pop("rope_theta")
    rope = dict(rope_type="default", rope_theta=theta)
    if scaling:
        rope.update(scaling)
    cfg = spec["config_cls"](**args, rope_parameters=rope)
    cfg._attn_implementation = "eager"
    return cfg


def init_weights(model, gen, tied):
    """Larger-than-default random weights so that logits are far from flat
    (std of a row about 2.5) and greedy paths do not settle on one token."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("embed_tokens.weight"):  # also the lm_head when tied
                p.copy_(torch.randn(p.shape, generator=gen) * (0.35 if tied else 1.0))
            elif "norm" in name:  # RMSNorm weights (layer, final, q/k): around 1
                p.copy_(0.6 + 0.8 * torch.rand(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
            elif name.endswith("lm_head.weight"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
            else:
                fan_in = p.shape[1]
                p.copy_(torch.randn(p.shape, generator=gen) * (1.6 / fan_in ** 0.5))


@torch.no_grad()
def logits_of(model, tokens):
    ids = torch.tensor([tokens], dtype=torch.long)
    out = model(input_ids=ids, use_cache=False)
    return out.logits[0]


@torch.no_grad()
def greedy(model, tokens, n):
    """Argmax loop, a full forward per step (no cache). Returns tokens and margins."""
    seq = list(tokens)
    out, margins = [], []
    for _ in range(n):
        row = logits_of(model, seq)[-1].double()
        top = torch.topk(row, 2).values
        margins.append(float((top[0] - top[1]) / row.abs().max()))
        t = int(torch.argmax(row))
        out.append(t)
        seq.append(t)
    return out, margins


def rel_l2(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())


def pick_prompts(model, model64, V, gen, log):
    """Random prompts, re-drawn until the greedy path has a clear margin."""
    prompts = []
    for n in PROMPT_LENS:
        for attempt in range(200):
            toks = torch.randint(0, V, (n,), generator=gen).tolist()
            g, margins = greedy(model, toks, N_GEN)
            g64, _ = greedy(model64, toks, N_GEN)
            if g != g64 or min(margins) < MIN_REL_MARGIN or len(set(g)) < MIN_DISTINCT:
                continue
            prompts.append(toks)
            log.append(f"  prompt len {n}: attempt {attempt}, min rel margin {min(margins):.3e}, "
                       f"{len(set(g))} distinct greedy tokens")
            break
        else:
            raise RuntimeError(f"no prompt of length {n} passes the margin test")
    return prompts


def hub_config(spec, cfg, bos, eos):
    """config.json the way Hub checkpoints write it (classic rope keys)."""
    c = {
        "architectures": spec["hub"]["architectures"],
        "model_type": spec["hub"]["model_type"],
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": cfg.rms_norm_eps,
        "initializer_range": 0.02,
        "attention_dropout": 0.0,
        "use_cache": True,
        "bos_token_id": bos,
        "eos_token_id": eos[0] if len(eos) == 1 else eos,
        "torch_dtype": "bfloat16" if spec["dtype"] == torch.bfloat16 else "float32",
        "transformers_version": transformers.__version__,
    }
    for k, v in spec["hub"].items():
        if k not in ("architectures", "model_type"):
            c[k] = v
    return dict(sorted(c.items()))


def write_reference(path, V, entries):
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<IIII", VERSION, V, len(entries), N_GEN))
        for toks, logits, g, margin in entries:
            f.write(struct.pack("<I", len(toks)))
            f.write(np.asarray(toks, dtype="<i4").tobytes())
            f.write(np.ascontiguousarray(logits.numpy(), dtype="<f4").tobytes())
            f.write(np.asarray(g, dtype="<i4").tobytes())
            f.write(struct.pack("<f", margin))
        f.write(END)


def read_reference(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == MAGIC and data[-8:] == END, path
    ver, V, P, G = struct.unpack_from("<IIII", data, 8)
    assert ver == VERSION
    off, entries = 24, []
    for _ in range(P):
        (n,) = struct.unpack_from("<I", data, off)
        off += 4
        toks = np.frombuffer(data, "<i4", n, off).tolist()
        off += 4 * n
        logits = torch.from_numpy(np.frombuffer(data, "<f4", n * V, off).reshape(n, V).copy())
        off += 4 * n * V
        g = np.frombuffer(data, "<i4", G, off).tolist()
        off += 4 * G
        (margin,) = struct.unpack_from("<f", data, off)
        off += 4
        entries.append((toks, logits, g, margin))
    assert off == len(data) - 8
    return V, entries


def build(spec, out_dir, check, log):
    name = spec["name"]
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + sum(map(ord, name)))
    cfg = make_config(spec)
    model = spec["model_cls"](cfg).eval()
    init_weights(model, gen, cfg.tie_word_embeddings)
    if spec["dtype"] == torch.bfloat16:  # the reference sees the rounded weights
        model = model.to(torch.bfloat16).to(torch.float32)
    model64 = spec["model_cls"](cfg).eval().double()
    model64.load_state_dict(model.state_dict())
    V = cfg.vocab_size
    log.append(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, "
               f"saved as {str(spec['dtype']).replace('torch.', '')}")
    prompts = pick_prompts(model, model64, V, gen, log)

    # eos ids: tokens that appear in no prompt and no greedy continuation, so
    # that a generator stopping on eos still produces all N_GEN tokens.
    used = set()
    for p in prompts:
        used |= set(p) | set(greedy(model, p, N_GEN)[0])
    free = [t for t in range(V - 1, -1, -1) if t not in used]
    eos = free[: spec["n_eos"]]
    bos = free[spec["n_eos"]]

    d = os.path.join(out_dir, name)
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.config.eos_token_id = eos[0] if len(eos) == 1 else eos
    model.config.bos_token_id = bos
    model.to(spec["dtype"]).save_pretrained(tmp, safe_serialization=True)
    model.to(torch.float32)
    # Keep the config as transformers 5 writes it (rope_parameters, dtype)
    # beside the Hub form: the C loader must read both the same way.
    os.rename(os.path.join(tmp, "config.json"), os.path.join(tmp, "config.transformers5.json"))
    for f in os.listdir(tmp):
        if f not in ("model.safetensors", "config.transformers5.json"):
            os.remove(os.path.join(tmp, f))
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(hub_config(spec, cfg, bos, eos), f, indent=2)
        f.write("\n")

    # The references come from the saved directory, loaded back the way a
    # user loads a checkpoint, so that the Hub-form config is what they test.
    loaded = AutoModelForCausalLM.from_pretrained(tmp, dtype=torch.float32,
                                                  attn_implementation="eager").eval()
    want_rope = dict(spec["args"].get("rope_scaling") or {"rope_type": "default"})
    want_rope["rope_theta"] = spec["args"]["rope_theta"]
    got_rope = {k: v for k, v in loaded.config.rope_parameters.items() if k in want_rope}
    assert got_rope == want_rope, (name, got_rope, want_rope)
    sd = model.state_dict()
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, sd[k]), f"{name}: {k} changed through save/load"

    entries = []
    for p in prompts:
        logits = logits_of(loaded, p).float()
        ref64 = logits_of(model64, p)
        g, margins = greedy(loaded, p, N_GEN)
        g64, _ = greedy(model64, p, N_GEN)
        assert g == g64
        assert not set(g) & set(eos)
        log.append(f"  prompt len {len(p)}: float32 vs float64 rel l2 {rel_l2(logits, ref64):.2e}, "
                   f"logit max|x| {float(logits.abs().max()):.2f} std {float(logits.std()):.2f}, "
                   f"greedy {g[:8]}...")
        entries.append((p, logits, g, min(margins)))
    log.append(f"  eos {eos}, bos {bos}")

    if check:
        V0, old = read_reference(os.path.join(d, "reference.bin"))
        assert V0 == V and len(old) == len(entries), name
        for (t0, l0, g0, _), (t1, l1, g1, _) in zip(old, entries):
            assert t0 == t1 and g0 == g1, f"{name}: prompts or greedy tokens differ"
            log.append(f"  check: rel l2 vs committed {rel_l2(l1, l0):.2e}")
        shutil.rmtree(tmp)
        return
    write_reference(os.path.join(tmp, "reference.bin"), V, entries)
    V1, back = read_reference(os.path.join(tmp, "reference.bin"))
    assert V1 == V and all(torch.equal(a[1], b[1]) for a, b in zip(back, entries))
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "tests", "data", "hf"))
    ap.add_argument("--check", action="store_true",
                    help="recompute and compare with the committed fixtures; write nothing")
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)  # reproducible reductions
    transformers.utils.logging.disable_progress_bar()
    log = []
    for spec in SPECS:
        build(spec, out, args.check, log)
    head = [
        "Hugging Face parity fixtures, generated by scripts/make_hf_fixtures.py",
        f"python {platform.python_version()}",
        f"torch {torch.__version__}",
        f"transformers {transformers.__version__}",
        f"safetensors {safetensors.__version__}",
        f"numpy {np.__version__}",
        f"seed {SEED}",
        f"prompt lengths {list(PROMPT_LENS)}, greedy tokens {N_GEN}, "
        f"min relative top-two margin {MIN_REL_MARGIN}",
        "logits: float32, attn_implementation=eager, no KV cache; "
        "qwen3 weights saved in bfloat16, its logits computed in float32 from them",
        "",
    ]
    text = "\n".join(head + log) + "\n"
    print(text, end="")
    if not args.check:
        with open(os.path.join(out, "VERSIONS.txt"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
