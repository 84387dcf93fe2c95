-- arith_drgrpo.lua: the default arithmetic experiment (arith.lua) trained with
-- Dr.GRPO (no std division, a constant length normalizer).
-- It differs from arith.lua only in the algorithm section (and output.dir):
-- same model, data, seed, budget (30 steps of 16 prompts x 16 samples, lr 3e-5),
-- sampling, reward and evaluation, so its metrics compare with arith.lua's.
-- docs/algorithms.md gives the method's formula and settings.
--
--     rlc train scripts/experiments/arith_drgrpo.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    name = "drgrpo",
    -- The drgrpo preset sets what this file leaves unset: norm_adv_by_std = false,
    -- loss_agg = "seq-mean-token-sum-norm", loss_agg_norm = sampling.max_new_tokens (80).
  },
  output = { dir = "runs/arith/drgrpo" },
}
