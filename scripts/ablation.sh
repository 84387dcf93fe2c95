#!/usr/bin/env bash
# ablation.sh: the default arithmetic experiment's RL stage with each
# algorithm (GRPO, Dr.GRPO, RLOO, PPO, DAPO, Reinforce-Ada), from the same
# SFT checkpoint under the same seed and budget, then one page comparing
# them (docs/ablation.md). From the repository root:
#
#     scripts/ablation.sh                       # every algorithm, 30 steps
#     ALGOS="grpo rloo" STEPS=3 THREADS=1 scripts/ablation.sh
#
# Environment (defaults in brackets):
#   RLC [./build/rlc]   THREADS [2]   ALGOS [grpo drgrpo rloo ppo dapo ada]
#   STEPS [30]          BATCH [each file's] prompts per step    SEED [1] data.seed
#   EVAL_EVERY [10]     SFT [runs/arith/sft/checkpoints/step-800]
#   OUT [runs/ablation] EXPERIMENTS [scripts/experiments]
#   SET ["" ] more `section.key=value` overrides for every run, space-separated
#
# For each algorithm NAME whose experiment file exists it runs
#     rlc train EXPERIMENTS/FILE --threads $THREADS --set model.path=$SFT
#         --set output.dir=$OUT/NAME --set algorithm.steps=$STEPS
#         [--set algorithm.batch_prompts=$BATCH] --set data.seed=$SEED
#         --set output.eval_every=$EVAL_EVERY
# (a missing file is skipped with a message: the per-algorithm files land one
# by one), then
#     rlc report --compare $OUT/report.html $OUT/NAME...
# which prints the summary table; it is also kept in $OUT/table.md.
# When the SFT checkpoint is missing it is made first with the commands of
# scripts/arith.sh (data, init-model, sft), without removing anything.
set -uo pipefail

RLC=${RLC:-./build/rlc}
THREADS=${THREADS:-2}
ALGOS=${ALGOS:-grpo drgrpo rloo ppo dapo ada}
STEPS=${STEPS:-30}
BATCH=${BATCH:-}  # empty: the file's own (256 trained samples a step: 16 x 16, PPO 64 x 4)
SEED=${SEED:-1}
EVAL_EVERY=${EVAL_EVERY:-10}
SFT=${SFT:-runs/arith/sft/checkpoints/step-800}
OUT=${OUT:-runs/ablation}
EXPERIMENTS=${EXPERIMENTS:-scripts/experiments}
SET=${SET:-}
RUN=runs/arith
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

die() { echo "ablation.sh: $*" >&2; exit 2; }
[ -x "$RLC" ] || die "$RLC not found (build first, or set RLC=path/to/rlc)"
[ -f scripts/experiments/arith_sft.lua ] || die "run from the repository root"
"$RLC" train --help > /dev/null 2>&1 || die "this build of $RLC has no 'rlc train'"

start=$(date +%s)
stamp() { echo "[ablation.sh +$(( $(date +%s) - start ))s] $*"; }

file_of() {  # algorithm name -> experiment file name
    case "$1" in
        grpo) echo arith.lua ;;
        drgrpo) echo arith_drgrpo.lua ;;
        rloo) echo arith_rloo.lua ;;
        ppo) echo arith_ppo.lua ;;
        dapo) echo arith_dapo.lua ;;
        ada) echo arith_ada.lua ;;
        *) return 1 ;;
    esac
}
for name in $ALGOS; do
    file_of "$name" > /dev/null || die "unknown algorithm '$name' in ALGOS (grpo drgrpo rloo ppo dapo ada)"
done

# ---- the SFT checkpoint every run starts from (made as scripts/arith.sh does) ----
if [ ! -f "$SFT/model.safetensors" ]; then
    [ "$SFT" = "$RUN/sft/checkpoints/step-800" ] || die "$SFT: no model.safetensors there"
    stamp "no SFT checkpoint at $SFT: making it as scripts/arith.sh does"
    if [ ! -f "$RUN/data/train.jsonl" ]; then
        "$RLC" data arith --out "$RUN/data" --sft 20000 --train 20000 --heldout 500 --seed 1 || die "rlc data failed"
    fi
    if [ ! -f "$RUN/init/model.safetensors" ]; then
        "$RLC" init-model --out "$RUN/init" --hidden 128 --layers 4 --heads 4 --kv-heads 2 --intermediate 384 \
            --seed 1 || die "rlc init-model failed"
    fi
    "$RLC" sft scripts/experiments/arith_sft.lua --threads "$THREADS" || die "rlc sft failed"
    [ -f "$SFT/model.safetensors" ] || die "rlc sft did not write $SFT"
fi
if [ ! -f "$RUN/data/train.jsonl" ] || [ ! -f "$RUN/data/heldout.jsonl" ]; then
    die "$RUN/data/train.jsonl or heldout.jsonl missing (rlc data arith --out $RUN/data --sft 20000 --train 20000 --heldout 500 --seed 1)"
fi

# ---- one run per algorithm ----------------------------------------------------
mkdir -p "$OUT"
ran=() skipped=() failed=()
for name in $ALGOS; do
    exp="$EXPERIMENTS/$(file_of "$name")"
    if [ ! -f "$exp" ]; then
        stamp "skipping $name: $exp not found (not written yet?)"
        skipped+=("$name")
        continue
    fi
    dir="$OUT/$name"
    rm -rf "$dir"
    mkdir -p "$dir"
    sets=(--set "model.path=$SFT" --set "output.dir=$dir" --set "algorithm.steps=$STEPS"
          --set "data.seed=$SEED" --set "output.eval_every=$EVAL_EVERY")
    if [ -n "$BATCH" ]; then sets+=(--set "algorithm.batch_prompts=$BATCH"); fi
    for s in $SET; do sets+=(--set "$s"); done
    # the resolved experiment, for the report's settings table and the algorithm's name
    if ! "$RLC" config "$exp" "${sets[@]}" > "$dir/experiment.json" 2> "$dir/config.err"; then
        stamp "skipping $name: $exp does not load: $(tail -1 "$dir/config.err")"
        rm -rf "$dir"
        failed+=("$name")
        continue
    fi
    rm -f "$dir/config.err"
    stamp "$name: rlc train $exp (steps $STEPS, batch ${BATCH:-as the file}, seed $SEED)"
    if "$RLC" train "$exp" --threads "$THREADS" "${sets[@]}" 2>&1 | tee "$dir/train.log"; then
        ran+=("$dir")
    else
        failed+=("$name")
        if [ -s "$dir/metrics.jsonl" ]; then
            stamp "$name: rlc train failed (see $dir/train.log); the steps it logged are still compared"
            ran+=("$dir")
        else
            stamp "$name: rlc train failed before its first step (see $dir/train.log)"
        fi
    fi
    "$RLC" report "$dir" > /dev/null 2>&1 || true  # the run's own page, $dir/report.html
done

if [ ${#skipped[@]} -gt 0 ]; then stamp "skipped (no experiment file): ${skipped[*]}"; fi
if [ ${#failed[@]} -gt 0 ]; then stamp "failed: ${failed[*]}"; fi
if [ ${#ran[@]} -eq 0 ]; then
    echo "ablation.sh: no run to compare" >&2
    exit 1
fi

# ---- the comparison -----------------------------------------------------------
stamp "rlc report --compare $OUT/report.html ${ran[*]}"
"$RLC" report --compare "$OUT/report.html" "${ran[@]}" > "$OUT/table.md"
rc=$?
if [ -s "$OUT/table.md" ]; then cat "$OUT/table.md"; fi
echo
echo "Same SFT checkpoint ($SFT), data.seed $SEED, $STEPS steps of ${BATCH:-per-file} prompts (256 trained samples a step unless BATCH is set), evaluation every $EVAL_EVERY" \
     "steps on $RUN/data/heldout.jsonl. DAPO (dynamic sampling) and Reinforce-Ada (adaptive sampling) draw more" \
     "samples per step than they train on: compare wall s as well as steps."
stamp "done: $OUT/report.html, $OUT/table.md"
if [ $rc -ne 0 ] || [ ${#failed[@]} -gt 0 ]; then exit 3; fi
