-- arith_rloo.lua: the default arithmetic experiment (arith.lua) trained with
-- RLOO (leave-one-out baseline: A_i = r_i - mean of the other 15 rewards).
-- It differs from arith.lua only in the algorithm section (and output.dir):
-- same model, data, seed, budget (30 steps of 16 prompts x 16 samples, lr 3e-5),
-- sampling, reward and evaluation, so its metrics compare with arith.lua's.
-- docs/algorithms.md gives the method's formula and settings.
--
--     rlc train scripts/experiments/arith_rloo.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    name = "rloo",
    -- RLOO: A_i = r_i - mean of the group's other samples = 16/15 (r_i - mean);
    -- no std division (norm_adv_by_std does not apply).
  },
  output = { dir = "runs/arith/rloo" },
}
