#!/usr/bin/env bash
# make_arith_fixture.sh: the SFT warm start of the default experiment, stored
# in bf16 under tests/data/arith/sft for tests/test_rl_arith.c (a short GRPO
# run in CI). It runs the experiment's own stages (rlc data arith, rlc
# init-model, rlc sft scripts/experiments/arith_sft.lua; see scripts/arith.sh),
# then converts model.safetensors to bf16 with the `safetensors` and `torch`
# packages (development tooling only). Run by hand from the repository root:
#     bash scripts/make_arith_fixture.sh [SFT_CHECKPOINT]
# With SFT_CHECKPOINT, the given step-N folder is converted instead.
set -euo pipefail
RLC=${RLC:-./build/rlc}
OUT=tests/data/arith/sft
CKPT=${1:-}
if [ -z "$CKPT" ]; then
    rm -rf runs/arith
    "$RLC" data arith --out runs/arith/data --sft 20000 --train 20000 --heldout 500 --seed 1
    "$RLC" init-model --out runs/arith/init --hidden 128 --layers 4 --heads 4 --kv-heads 2 --intermediate 384 --seed 1
    OMP_WAIT_POLICY=passive "$RLC" sft scripts/experiments/arith_sft.lua --threads 2
    CKPT=$(ls -d runs/arith/sft/checkpoints/step-* | sort -t- -k2 -n | tail -1)
fi
mkdir -p "$OUT"
cp "$CKPT"/config.json "$CKPT"/tokenizer.json "$CKPT"/tokenizer_config.json "$OUT"/
python3 - "$CKPT/model.safetensors" "$OUT/model.safetensors" <<'PY'
import sys, torch, safetensors, safetensors.torch
src, dst = sys.argv[1], sys.argv[2]
tensors = safetensors.torch.load_file(src)
safetensors.torch.save_file({k: v.to(torch.bfloat16).contiguous() for k, v in tensors.items()}, dst,
                            metadata={"format": "pt"})
with open(dst.rsplit("/", 1)[0] + "/VERSIONS.txt", "w") as f:
    f.write(f"source: {src}\ntorch {torch.__version__}, safetensors {safetensors.__version__}\n")
PY
du -sh "$OUT"
