-- dump_ucb.lua: DUMP's distribution-level curriculum (Wang et al. 2025,
-- "DUMP: Automated Distribution-Level Curriculum Learning for RL-based LLM
-- Post-training"). A source's learnability is the mean |advantage| of its
-- samples over the sliding window (curriculum.window; the learner observes,
-- per trained sample, the advantage it trained with); an upper confidence
-- bound adds exploration for sources sampled less, and a softmax with
-- temperature tau turns the scores into sampling weights:
--   ucb_j = mean_abs_adv_j + c * sqrt(2 ln(sum_i n_i + 1) / (n_j + 1))
--   w_j   = exp(ucb_j / tau) / sum_k exp(ucb_k / tau)
-- n_j is the number of samples of source j since the run began (seen): the
-- windowed count stops at the window, which would make the bonus equal for
-- every source once the windows are full. The +1s keep a source that has not
-- been sampled yet finite (and favoured).
--
-- Settings: the experiment's curriculum.params, e.g.
--   curriculum = {script = "scripts/curricula/dump_ucb.lua", params = {c = 1.0, tau = 0.1}}
local C_DEFAULT = 1.0    -- c, exploration strength
local TAU_DEFAULT = 0.1  -- tau, softmax temperature

function curriculum(state)
  local p = state.params or {}
  local c, tau = p.c or C_DEFAULT, p.tau or TAU_DEFAULT
  assert(type(c) == "number" and c >= 0, "dump_ucb.lua: params.c must be a number >= 0")
  assert(type(tau) == "number" and tau > 0, "dump_ucb.lua: params.tau must be a number > 0")
  local total = 0
  for _, src in ipairs(state.sources) do total = total + src.seen end
  local ucb, best = {}, -math.huge
  for _, src in ipairs(state.sources) do
    local u = src.mean_abs_adv + c * math.sqrt(2 * math.log(total + 1) / (src.seen + 1))
    ucb[src.name] = u
    if u > best then best = u end
  end
  local w, info = {}, {}
  for name, u in pairs(ucb) do
    w[name] = math.exp((u - best) / tau)  -- shifted by the max: no overflow
    info["ucb_" .. name] = u
  end
  return w, info
end
