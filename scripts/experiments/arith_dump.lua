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
  base = "arith.lua",           -- everything else as the default experiment
  data = {
    sources = {
      { name = "steps2", path = "runs/arith/steps2/train.jsonl", weight = 1 },
      { name = "steps3", path = "runs/arith/steps3/train.jsonl", weight = 1 },
      { name = "steps4", path = "runs/arith/steps4/train.jsonl", weight = 1 },
    },
  },
  curriculum = {
    script = "scripts/curricula/dump_ucb.lua",
    window = 256,               -- samples per source in the |advantage| window
    every = 1,
    params = { c = 1.0, tau = 0.1 },  -- DUMP's exploration strength and softmax temperature
  },
  output = { dir = "runs/arith/dump" },
}
