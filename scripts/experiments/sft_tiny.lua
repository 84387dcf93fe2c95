-- sft_tiny.lua: supervised fine-tuning of the 260K-parameter llama2.c
-- TinyStories model on 16 made-up prompt/response pairs. Runs in about a
-- second (--threads 1; 12k tokens/s); the loss falls from 1.9 to below 0.1 as
-- the model memorizes the responses.
--
--     rlc sft scripts/experiments/sft_tiny.lua
--     rlc sft scripts/experiments/sft_tiny.lua --set algorithm.steps=60 --resume
--
-- Paths are relative to the repository root (run it from there); the model
-- lives in the shared data folder (scripts/setup.sh fetches it).
return {
  model = {
    path = "../shared/data/models/stories260K/stories260K.bin",
    tokenizer = "../shared/data/models/stories260K/tok512.bin",
  },
  data = {
    sources = { { name = "tiny", path = "tests/data/sft/tiny.jsonl" } },
    prompt_key = "prompt",
    answer_key = "response",  -- the response field
    max_prompt_tokens = 256,
    seed = 1,
  },
  algorithm = {
    steps = 40,
    batch_prompts = 8,        -- samples per optimizer step
    lr = 4e-3,
    lr_warmup_steps = 4,
    weight_decay = 0.0,
    max_grad_norm = 1.0,
  },
  output = {
    dir = "runs/sft_tiny",
    log_every = 5,
    save_every = 20,
  },
}
