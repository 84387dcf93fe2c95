-- arith_dump.lua: the arith experiment (arith.lua) over three sources of
-- different difficulty (2, 3 and 4 operations per problem), scheduled by
-- DUMP's UCB curriculum (scripts/curricula/dump_ucb.lua; Wang et al. 2025):
-- each source's learnability is the mean |advantage| its samples trained
-- with over the window, plus an exploration bonus; softmax(UCB / tau) gives
-- the sampling weights, logged on every metrics line ("curriculum").
--
--     rlc data arith --out runs/arith/data --sft 20000 --train 20000 --heldout 500 --seed 1
--     rlc data arith --out runs/arith/steps2 --sft 0 --train 5000 --heldout 100 --seed 12 --steps 2-2
--     rlc data arith --out runs/arith/steps3 --sft 0 --train 5000 --heldout 100 --seed 13 --steps 3-3
--     rlc data arith --out runs/arith/steps4 --sft 0 --train 5000 --heldout 100 --seed 14 --steps 4-4
--     rlc train scripts/experiments/arith_dump.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
--
-- The evaluation is the default held-out set (runs/arith/data/heldout.jsonl,
-- 2 to 4 operations). The per-difficulty sets come from other seeds, so a
-- question may repeat one of it by chance (1 of the 5000 two-step ones with
-- these seeds).
return {
  model = {
    path = "runs/arith/sft/checkpoints/step-800",
  },
  data = {
    sources = {
      { name = "steps2", path = "runs/arith/steps2/train.jsonl", weight = 1 },
      { name = "steps3", path = "runs/arith/steps3/train.jsonl", weight = 1 },
      { name = "steps4", path = "runs/arith/steps4/train.jsonl", weight = 1 },
    },
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
    clip_low = 0.2,
    clip_high = 0.28,
    kl_coef = 0.0,
    entropy_coef = 0.0,
    loss_agg = "token-mean",
    norm_adv_by_std = true,
    dynamic_sampling = false,
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
  curriculum = {
    script = "scripts/curricula/dump_ucb.lua",
    window = 256,               -- samples per source in the |advantage| window
    every = 1,
    params = { c = 1.0, tau = 0.1 },  -- DUMP's exploration strength and softmax temperature
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
    dir = "runs/arith/dump",
    log_every = 1,
    eval_every = 10,
    save_every = 0,             -- one checkpoint, at the end
  },
}
