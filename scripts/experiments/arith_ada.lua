-- arith_ada.lua: the arith experiment (arith.lua) with Reinforce-Ada's
-- adaptive sampling (Xiong et al. 2025), balanced variant; only the
-- algorithm section and output.dir differ. docs/algorithms.md ("Reinforce-Ada").
--
--     rlc data arith --out runs/arith/data --sft 20000 --train 20000 --heldout 500 --seed 1
--     rlc train scripts/experiments/arith_ada.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
--
-- The metrics line of each step has "ada": samples drawn, discarded by the
-- cut, rounds (sum over the prompts), rounds_max, prompts exited and prompts
-- ended by the fallback (after the last round).
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    adaptive_sampling = "balanced",
    ada_rounds = 4,
    ada_samples_per_round = 16,
    ada_positive_threshold = 1.0,  -- gsm8k.lua scores 1 or 0
  },
  output = { dir = "runs/arith/ada" },
}
