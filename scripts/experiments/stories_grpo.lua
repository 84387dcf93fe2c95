-- stories_grpo.lua: GRPO on the real pretrained stories260K model (a 260K
-- parameter Llama trained on TinyStories) with a Lua reward: the story must
-- name a given character (scripts/rewards/stories.lua). The reward rises
-- within a few dozen steps on 2 CPU cores.
--   rlc train scripts/experiments/stories_grpo.lua
return {
  model = {
    path = "$RLC_DATA/models/stories260K/stories260K.bin",
    tokenizer = "$RLC_DATA/models/stories260K/tok512.bin",
  },
  data = {
    sources = {{name = "stories", path = "scripts/experiments/data/stories_prompts.jsonl"}},
    prompt_key = "question",
    max_prompt_tokens = 32,
    seed = 1,
  },
  algorithm = {
    name = "grpo",
    steps = 60,
    batch_prompts = 8,
    group_size = 8,
    lr = 1e-3,
    clip_low = 0.2,
    clip_high = 0.28,
    max_staleness = 0,
  },
  sampling = {max_new_tokens = 96, temperature = 1.0},
  reward = {funcs = {{script = "scripts/rewards/stories.lua", weight = 1}}, threads = 1},
  rollout = {workers = 1, slots = 64, max_credit = 8},
  output = {dir = "runs/stories_grpo", save_every = 0},
}
