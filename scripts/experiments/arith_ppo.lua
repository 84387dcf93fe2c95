-- arith_ppo.lua: the default arithmetic experiment (arith.lua) with PPO and a
-- critic instead of GRPO: everything but the algorithm section and the
-- output folder is arith.lua's. The value model starts as a copy of the SFT
-- policy with a zero value head (learner/critic.h); GAE with gamma = lam = 1
-- gives each token the return R minus the critic's value before it.
--
--     rlc train scripts/experiments/arith_ppo.lua --threads 2
--
-- Measured (one run each, --threads 1 on a shared 2-core machine): held-out
-- greedy pass@1 0.518 -> 0.558 at step 10, 0.580 at 20, 0.606 at 30 (+8.8
-- points; arith.lua's GRPO: +9.4 at 30). The critic's values reach the mean
-- return by step ~12 (values_mean 0.29 vs returns_mean 0.35) and its explained
-- variance stays small (~0.02 at step 30): on this model it is mostly a
-- learned mean baseline. critic.lr = 5e-4 tracks faster (explained variance
-- ~0.1 at step 25) and gave +7.8. The critic's time is about 1.2-1.5x the
-- policy update's (one forward over the batch for the old values, then a
-- forward and backward per minibatch): in a lightly loaded smoke run a step
-- took 4.5-8 s (wait 1.4-2.5 s, policy 2-4.6 s, critic 2.7-5.5 s).
--
-- The critic doubles the learner's parameter memory (a second 820k-parameter
-- model with its own AdamW state: ~13 MB here) and adds one forward over the
-- batch plus a forward/backward per critic update (docs/algorithms.md,
-- "PPO with a critic").
return {
  base = "arith.lua",           -- everything else as the default experiment
  algorithm = {
    name = "ppo",               -- GAE advantages from a learned critic (critic section below)
    batch_prompts = 64,         -- 256 completions a step, as arith.lua's 16 x 16, over more prompts:
    group_size = 4,             -- PPO needs no groups; more distinct prompts feed the critic
    minibatch_prompts = 32,     -- two policy and two critic updates a step
    gamma = 1.0,                -- no discount: one outcome reward at the end of ~42 tokens
    lam = 1.0,                  -- Monte-Carlo returns; the critic is only a baseline (verl's default)
  },
  critic = {
    path = "",                  -- start from the policy's (SFT) weights
    lr = 1e-4,                  -- ~3x the policy's: the value head starts at zero and must catch up
                                -- (5e-4 measured too: +7.8 points, a better-fitted critic)
    lr_warmup_steps = 0,
    weight_decay = 0.01,
    max_grad_norm = 1.0,
    cliprange_value = 0.5,      -- verl's; rewards are 0 / 1 here
  },
  output = { dir = "runs/arith/ppo" },
}
