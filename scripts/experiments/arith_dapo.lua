-- arith_dapo.lua: the default arithmetic experiment (arith.lua) trained with
-- DAPO (clip-higher, token-mean, dynamic sampling, soft overlong penalty).
-- It differs from arith.lua only in the algorithm section (and output.dir):
-- same model, data, seed, budget (30 steps of 16 prompts x 16 samples, lr 3e-5),
-- sampling, reward and evaluation, so its metrics compare with arith.lua's.
-- docs/algorithms.md gives the method's formula and settings.
--
--     rlc train scripts/experiments/arith_dapo.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    name = "dapo",
    -- The dapo preset sets what this file leaves unset: clip_low 0.2, clip_high 0.28,
    -- loss_agg "token-mean", dynamic_sampling on (all-equal groups dropped, more
    -- prompts sampled), overlong_buffer = max_new_tokens / 4 = 20: a completion of
    -- L > 60 tokens loses (L - 60) / 20 * overlong_penalty (1.0) of its reward.
  },
  output = { dir = "runs/arith/dapo" },
}
