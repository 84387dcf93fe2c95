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
  base = "arith.lua",           -- everything else as the default experiment
  data = {
    prompt_script = "scripts/curricula/reverse.lua",
  },
  curriculum = {
    script = "scripts/curricula/reverse.lua",
    every = 1,
    -- 256 samples is one step (16 x 16). The stage accuracy counts every
    -- prompt, half of them drawn from all stages: at threshold 0.6 the run
    -- stayed at stage 0 for 30 steps (0.54 to 0.57), so 0.5 here.
    params = { schedule = "mixed", focus = 0.5, threshold = 0.5, min_samples = 256, seed = 1 },
  },
  output = { dir = "runs/arith/reverse" },
}
