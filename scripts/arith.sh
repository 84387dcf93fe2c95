#!/usr/bin/env bash
# arith.sh: the default experiment, every stage (docs/arith.md), from the
# repository root:
#
#     scripts/arith.sh            # RLC=./build/rlc THREADS=2 by default
#
# 1. rlc data arith: generated arithmetic word problems (runs/arith/data)
# 2. rlc init-model: a from-scratch byte-level Llama (runs/arith/init)
# 3. rlc sft: the warm start on worked solutions (runs/arith/sft)
# 4. rlc eval: held-out greedy pass@1 of the SFT model ("before")
# 5. rlc train: GRPO (runs/arith/grpo), when this build has `rlc train`
# 6. rlc eval: held-out greedy pass@1 after GRPO ("after"), and against the
#    SFT model's answers: the problems it fixed and broke (rlc eval --against)
#
# runs/arith is removed first: the experiment files name these paths.
set -euo pipefail

RLC=${RLC:-./build/rlc}
THREADS=${THREADS:-2}
RUN=runs/arith
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

[ -x "$RLC" ] || { echo "arith.sh: $RLC not found (build first, or set RLC=path/to/rlc)" >&2; exit 2; }
[ -f scripts/experiments/arith_sft.lua ] || { echo "arith.sh: run from the repository root" >&2; exit 2; }

start=$(date +%s)
stamp() { echo "[arith.sh +$(( $(date +%s) - start ))s] $*"; }
pass1() { sed -n 's/^pass@1 = \([0-9.]*\).*/\1/p' "$1"; }
eval_model() {  # MODEL NAME [MORE rlc eval OPTIONS]: $RUN/eval_NAME.txt, every completion in $RUN/eval_NAME.jsonl
    local model=$1 name=$2
    shift 2
    "$RLC" eval --model "$model" --data "$RUN/data/heldout.jsonl" --n 500 --batch 64 --max-new-tokens 80 \
        --threads "$THREADS" --out "$RUN/eval_$name.jsonl" "$@" | tee "$RUN/eval_$name.txt"
}

rm -rf "$RUN"
stamp "data"
"$RLC" data arith --out "$RUN/data" --sft 20000 --train 20000 --heldout 500 --seed 1
stamp "init-model"
"$RLC" init-model --out "$RUN/init" --hidden 128 --layers 4 --heads 4 --kv-heads 2 --intermediate 384 --seed 1
stamp "sft"
"$RLC" sft scripts/experiments/arith_sft.lua --threads "$THREADS"
SFT=$(ls -d "$RUN"/sft/checkpoints/step-* | sort -t- -k2 -n | tail -1)
stamp "eval before GRPO: $SFT"
eval_model "$SFT" sft
before=$(pass1 "$RUN/eval_sft.txt")

if ! "$RLC" train --help > /dev/null 2>&1; then
    stamp "this build has no 'rlc train': stopping after SFT"
    echo "held-out greedy pass@1: SFT $before"
    exit 0
fi
stamp "grpo"
"$RLC" train scripts/experiments/arith.lua --threads "$THREADS" --set "model.path=$SFT"
GRPO=$(ls -d "$RUN"/grpo/checkpoints/step-* | sort -t- -k2 -n | tail -1)
stamp "eval after GRPO: $GRPO"
eval_model "$GRPO" grpo --against "$RUN/eval_sft.jsonl"  # the paired comparison with the SFT model
after=$(pass1 "$RUN/eval_grpo.txt")

stamp "done"
echo "held-out greedy pass@1: SFT $before -> GRPO $after" \
     "($(awk -v a="$after" -v b="$before" 'BEGIN { printf "%+.1f", 100 * (a - b) }') points)"
sed -n "s/^against [^:]*: .*); \(.*\)$/GRPO against SFT, problem by problem: \1/p" "$RUN/eval_grpo.txt"
