-- arith_sft.lua: the SFT warm start of the default experiment (docs/arith.md):
-- a from-scratch byte-level Llama (rlc init-model) trained on generated worked
-- solutions of arithmetic word problems (rlc data arith). scripts/arith.sh runs
-- every stage; by hand, from the repository root:
--
--     rlc data arith --out runs/arith/data
--     rlc init-model --out runs/arith/init
--     rlc sft scripts/experiments/arith_sft.lua --threads 2
--     rlc eval --model runs/arith/sft/checkpoints/step-STEPS --data runs/arith/data/heldout.jsonl
--
-- The prompt is the question rendered as "user: Q\nassistant: " (the plain
-- chat template: GRPO and rlc eval render it the same way); the response is
-- the worked solution ending in "#### N", then <|eos|>.
--
-- Measured on the 2-core development machine (--threads 2, shared): 800 steps
-- in about 3.5 minutes (~11k tokens/s); held-out greedy pass@1 0.52, sampled
-- (T=1) mean accuracy 0.35, pass@8 0.75. The model learns to find the numbers
-- in the question late (pass@1 is 0.06 at step 400 and 0.11 at step 600), so
-- fewer steps leave it far weaker. docs/arith.md has the figures.
return {
  model = {
    path = "runs/arith/init",
  },
  data = {
    sources = { { name = "arith", path = "runs/arith/data/sft.jsonl" } },
    prompt_key = "prompt",
    answer_key = "response",  -- the response field
    max_prompt_tokens = 400,
    seed = 1,
  },
  algorithm = {
    steps = 800,
    batch_prompts = 16,       -- samples per optimizer step (~2700 tokens: one packed row)
    lr = 2e-3,
    lr_warmup_steps = 20,
    lr_schedule = "cosine",
    min_lr_ratio = 0.1,
    weight_decay = 0.0,
    max_grad_norm = 1.0,
    micro_batch_tokens = 4096,
  },
  output = {
    dir = "runs/arith/sft",
    log_every = 100,
    save_every = 0,           -- one checkpoint, at the end: runs/arith/sft/checkpoints/step-800
  },
}
