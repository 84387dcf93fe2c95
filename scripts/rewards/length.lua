-- length.lua: DAPO's soft overlong punishment (Yu et al. 2025, eq. 13, as in
-- verl's DAPO reward manager). With L_max the generation limit and L_cache the
-- buffer before it, a completion of n tokens gets
--   0                                 if n <= L_max - L_cache
--   -(n - (L_max - L_cache)) / L_cache * factor   otherwise (down to -factor)
-- Add it to a correctness reward with weight 1 (scripts/rewards/combined.lua).
local L_MAX = 1024    -- sampling.max_new_tokens of the experiment
local L_CACHE = 256   -- the overlong buffer
local FACTOR = 1.0    -- the penalty at n = L_max

function reward(sample)
  local n = sample.num_tokens
  if not n then n = #sample.completion // 4 end  -- rough tokens when unknown
  local expected = L_MAX - L_CACHE
  local exceed = n - expected
  return math.min(-exceed / L_CACHE * FACTOR, 0.0)
end
