-- dump_ucb.lua: DUMP's distribution-level curriculum (Wang et al. 2025). Each
-- source's learnability is its mean |advantage| over the sliding window
-- (curriculum.window); an upper confidence bound adds exploration for sources
-- seen less, and a softmax with temperature T turns the scores into sampling
-- weights:
--   ucb_j = mean_abs_adv_j + C * sqrt(2 ln(sum_i n_i + 1) / (n_j + 1))
--   w_j   = exp(ucb_j / T) / sum_k exp(ucb_k / T)
-- The +1s keep a source that has not been sampled yet finite (and favoured).
local C = 1.0   -- exploration strength
local T = 0.1   -- softmax temperature

function curriculum(state)
  local total = 0
  for _, src in ipairs(state.sources) do total = total + src.count end
  local ucb, best = {}, -math.huge
  for _, src in ipairs(state.sources) do
    local u = src.mean_abs_adv + C * math.sqrt(2 * math.log(total + 1) / (src.count + 1))
    ucb[src.name] = u
    if u > best then best = u end
  end
  local w = {}
  for name, u in pairs(ucb) do
    w[name] = math.exp((u - best) / T)  -- shifted by the max: no overflow
  end
  return w
end
