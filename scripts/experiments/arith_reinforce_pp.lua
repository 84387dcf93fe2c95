-- arith_reinforce_pp.lua: the default arithmetic experiment (arith.lua) trained with
-- REINFORCE++ (per-token discounted returns, whitened over the batch, no group baseline).
-- It differs from arith.lua only in the algorithm section (and output.dir):
-- same model, data, seed, budget (30 steps of 16 prompts x 16 samples, lr 3e-5),
-- sampling, reward and evaluation, so its metrics compare with arith.lua's.
-- docs/algorithms.md gives the method's formula and settings.
--
--     rlc train scripts/experiments/arith_reinforce_pp.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    name = "reinforce++",
    -- REINFORCE++: the reward on each completion's last token, returns
    -- G_t = r_t + gamma G_{t+1}, whitened over every completion token of the
    -- batch (mean 0, variance 1); no group baseline, so groups of 16 only add data.
    gamma = 1.0,                -- the return discount (verl's default)
  },
  output = { dir = "runs/arith/reinforce_pp" },
}
