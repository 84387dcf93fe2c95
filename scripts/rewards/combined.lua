-- combined.lua: correctness + format + DAPO's overlong penalty in one script,
-- each kept as a named component. The same sum can be made from separate
-- scripts with weights (reward.funcs in an experiment, or
-- `rlc reward math.lua format.lua length.lua --weights 1,0.1,1`).
local W_FORMAT = 0.1
local L_MAX, L_CACHE = 1024, 256

local function accuracy(sample)
  local ref = sample.answer or ""
  ref = ref:match("####%s*(.-)%s*$") or ref
  return rlc.math.grade(sample.completion, ref) and 1.0 or 0.0
end

local function format(sample)
  return sample.completion:find("^%s*<think>.-</think>%s*%S") and 1.0 or 0.0
end

local function overlong(sample)
  local n = sample.num_tokens or #sample.completion // 4
  return math.min(-(n - (L_MAX - L_CACHE)) / L_CACHE, 0.0)
end

function reward(sample)
  local acc, fmt, long = accuracy(sample), format(sample), overlong(sample)
  return {score = acc + W_FORMAT * fmt + long, accuracy = acc, format = fmt, overlong = long}
end
