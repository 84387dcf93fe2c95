-- arith_reverse.lua: the arith experiment (arith.lua) with R^3's reverse
-- curriculum (Xi et al. 2024; scripts/curricula/reverse.lua): the prompt is
-- the question followed by the first k steps of the reference solution
-- ("user: Q\nassistant: 8 + 7 = 15. "), and k falls stage by stage to 0 as
-- the accuracy at the stage passes a threshold. reverse.lua is both the
-- prompt script and the curriculum (they share its store). The schedule is
-- "mixed" (R^3's mix of start states: each prompt draws its stage, here with
-- half the draws on the current stage); "staged" keeps every prompt at the
-- current stage. The held-out set is rendered before the first curriculum
-- call: the bare question, as in arith.lua.
--
--     rlc data arith --out runs/arith/data --sft 20000 --train 20000 --heldout 500 --seed 1
--     rlc train scripts/experiments/arith_reverse.lua --threads 2 \
--         --set model.path=runs/arith/sft/checkpoints/step-800
--
-- The metrics line of each step has "curriculum": stage, keep (the stage's
-- share of the givable steps), stage_samples and stage_accuracy.
return {
  model = {
    path = "runs/arith/sft/checkpoints/step-800",
  },
  data = {
    sources = { { name = "arith", path = "runs/arith/data/train.jsonl", weight = 1 } },
    prompt_key = "question",
    answer_key = "answer",      -- the bare number
    chat_template = "plain",    -- unused: reverse.lua renders "user: Q\nassistant: " itself
    prompt_script = "scripts/curricula/reverse.lua",
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
    script = "scripts/curricula/reverse.lua",
    every = 1,
    -- 256 samples is one step (16 x 16). The stage accuracy counts every
    -- prompt, half of them drawn from all stages: at threshold 0.6 the run
    -- stayed at stage 0 for 30 steps (0.54 to 0.57), so 0.5 here.
    params = { schedule = "mixed", focus = 0.5, threshold = 0.5, min_samples = 256, seed = 1 },
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
    dir = "runs/arith/reverse",
    log_every = 1,
    eval_every = 10,
    save_every = 0,             -- one checkpoint, at the end
  },
}
