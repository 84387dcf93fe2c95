-- math_grpo.lua: GRPO on MATH-style problems for a real instruct checkpoint:
-- boxed answers graded by rlc.math, DAPO's clip-higher (0.2 / 0.28) and
-- token-mean loss, no KL (as DAPO and Dr.GRPO), longer completions. The
-- shared data has MATH-500 (the test split); point data.sources at a MATH
-- training JSONL (problem, solution, answer fields) for real runs.
--   rlc train scripts/experiments/math_grpo.lua --set model.path=/models/Qwen2.5-1.5B-Instruct
return {
  model = {path = "", gradient_checkpointing = true},
  data = {
    sources = {{name = "math", path = "$RLC_DATA/math/math500_test.jsonl"}},
    prompt_script = "scripts/prompts/math.lua",
    answer_key = "answer",
    max_prompt_tokens = 1024,
  },
  algorithm = {
    name = "grpo",
    steps = 200,
    batch_prompts = 32,
    group_size = 8,
    minibatch_prompts = 16,
    lr = 1e-6,
    kl_coef = 0.0,
    clip_low = 0.2,
    clip_high = 0.28,
    loss_agg = "token-mean",
    dynamic_sampling = true,
    max_staleness = 1,
    micro_batch_tokens = 8192,
  },
  sampling = {max_new_tokens = 2048, temperature = 1.0},
  reward = {funcs = {{script = "scripts/rewards/math.lua", weight = 1}}},
  rollout = {workers = 1, slots = 64, max_credit = 8},
  eval = {path = "$RLC_DATA/math/math500_test.jsonl", n = 500},
  output = {dir = "runs/math_grpo", save_every = 50, eval_every = 25},
}
