-- arith.lua: the default experiment's GRPO stage (docs/arith.md), for the
-- SFT-warmed byte-level model of arith_sft.lua. The arith_*.lua files take
-- it as their `base` and change the algorithm. scripts/arith.sh runs every stage:
--
--     rlc data arith --out runs/arith/data
--     rlc init-model --out runs/arith/init
--     rlc sft scripts/experiments/arith_sft.lua --threads 2
--     rlc train scripts/experiments/arith.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
--
-- Prompts: the question under the "plain" chat template, "user: Q\nassistant: ",
-- exactly the text SFT trained on (arith_format_prompt, learner/arith.h).
-- The SFT model starts at held-out greedy pass@1 ~0.52, sampled (T=1) mean
-- accuracy ~0.35 and pass@8 ~0.75: most groups of 16 have mixed rewards.
-- Completions are ~42 tokens (at most ~60 for four steps). The 30 steps take
-- ~121 s on 2 idle cores (~4 s a step: 1.3 s waiting for rollouts, 2.2 s
-- training) and end at held-out pass@1 0.612 (+9.4 points).
return {
  model = {
    path = "runs/arith/sft/checkpoints/step-800",
  },
  data = {
    sources = { { name = "arith", path = "runs/arith/data/train.jsonl", weight = 1 } },
    prompt_key = "question",
    answer_key = "answer",      -- the bare number
    chat_template = "plain",    -- the byte tokenizer has none: say it explicitly
    max_prompt_tokens = 256,
    seed = 1,
  },
  algorithm = {
    name = "grpo",
    steps = 30,                 -- group 16, lr 3e-5: held-out pass@1 +6.2 at 10, +8.6 at 20, +9.4 at 30, +8.4 at 40
    batch_prompts = 16,
    group_size = 16,            -- 8 gave +6.6 at 40 steps
    minibatch_prompts = 16,     -- one optimizer step per batch
    ppo_epochs = 1,
    lr = 3e-5,                  -- measured: 3e-5 +6.6 points at 40 steps; 6e-5 +5.8 at 40, +2.0 at 60;
                                -- 2e-4 -16.8 (the held-out pass@1 falls to 0.30-0.37)
    lr_warmup_steps = 0,
    weight_decay = 0.0,
    max_grad_norm = 1.0,
    -- left at their defaults (so that the files built on this one with `base`
    -- get their presets' values): clip_low 0.2, clip_high 0.28, loss_agg
    -- "token-mean", norm_adv_by_std true, dynamic_sampling false
    kl_coef = 0.0,
    entropy_coef = 0.0,
    max_staleness = 0,
    micro_batch_tokens = 4096,
  },
  sampling = {
    max_new_tokens = 80,
    temperature = 1.0,
    top_p = 1.0,
  },
  reward = {
    funcs = { { script = "scripts/rewards/gsm8k.lua", weight = 1 } },
    threads = 1,
  },
  rollout = {
    workers = 1,
    slots = 256,                -- a whole batch (16 x 16) decoded together
    threads = 2,
  },
  eval = {
    path = "runs/arith/data/heldout.jsonl",
    n = 500,
    temperature = 0.0,
    max_new_tokens = 80,
  },
  output = {
    dir = "runs/arith/grpo",
    log_every = 1,
    eval_every = 10,
    save_every = 0,             -- one checkpoint, at the end
  },
}
