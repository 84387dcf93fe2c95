-- arith_gspo.lua: the default arithmetic experiment (arith.lua) trained with
-- GSPO (sequence-level importance ratio, GSPO-token form).
-- It differs from arith.lua only in the algorithm section (and output.dir):
-- same model, data, seed, budget (30 steps of 16 prompts x 16 samples, lr 3e-5),
-- sampling, reward and evaluation, so its metrics compare with arith.lua's.
-- docs/algorithms.md gives the method's formula and settings.
--
--     rlc train scripts/experiments/arith_gspo.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    name = "gspo",
    -- The gspo preset sets what this file leaves unset: policy_loss = "gspo",
    -- clip_low 3e-4, clip_high 4e-4 (the GSPO paper's), loss_agg "seq-mean-token-mean".
    -- With one minibatch and one epoch per batch the data is on-policy, the
    -- sequence ratio is 1 and the clip does not act: the update is GRPO's
    -- seq-mean-token-mean one (tests/test_grpo.c checks this).
  },
  output = { dir = "runs/arith/gspo" },
}
