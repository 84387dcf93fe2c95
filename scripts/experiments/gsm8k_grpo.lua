-- gsm8k_grpo.lua: GRPO on GSM8K for a real instruct checkpoint, with the
-- settings of verl's published GSM8K GRPO example (lr 1e-6, k3 KL to the
-- reference at 0.001 in the loss, no entropy bonus, prompts of at most 512
-- tokens, completions of at most 1024, temperature 1) scaled to one machine.
--   rlc train scripts/experiments/gsm8k_grpo.lua --set model.path=/models/Qwen2.5-0.5B-Instruct
-- docs/rl.md explains the settings and what to change for 1.5B models.
return {
  model = {path = "", gradient_checkpointing = true},
  data = {
    sources = {{name = "gsm8k", path = "$RLC_DATA/gsm8k/train.jsonl"}},
    prompt_script = "scripts/prompts/gsm8k.lua",
    answer_key = "answer",
    max_prompt_tokens = 512,
  },
  algorithm = {
    name = "grpo",
    steps = 200,
    batch_prompts = 64,
    group_size = 8,
    minibatch_prompts = 16,
    lr = 1e-6,
    kl_coef = 0.001,
    kl_estimator = "k3",
    entropy_coef = 0.0,
    clip_low = 0.2,
    clip_high = 0.28,
    loss_agg = "token-mean",
    max_staleness = 1,
    micro_batch_tokens = 4096,
  },
  sampling = {max_new_tokens = 1024, temperature = 1.0},
  reward = {funcs = {{script = "scripts/rewards/gsm8k.lua", weight = 1}}},
  rollout = {workers = 1, slots = 64, max_credit = 16},
  eval = {path = "$RLC_DATA/gsm8k/test.jsonl", n = 500},
  output = {dir = "runs/gsm8k_grpo", save_every = 50, eval_every = 25},
}
