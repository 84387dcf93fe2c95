-- reverse.lua: R^3's reverse curriculum (Xi et al. 2024, "Training Large
-- Language Models for Reasoning through Reverse Curriculum Reinforcement
-- Learning"). The prompt of an example is its question followed by the first
-- k steps of the reference solution, so the model only has to finish it; k
-- slides back to 0 (the bare question) stage by stage, each time the accuracy
-- at the current stage passes THRESHOLD.
--
-- Two functions of this one script cooperate through `store`, which they
-- share (one table per script per Lua state):
--   curriculum(state)  measures the accuracy since the stage began, from the
--                      run totals state.sources[i].seen / .correct, and moves
--                      store.stage on; returns equal weights over the sources
--                      and, second, {stage=, keep=, stage_samples=,
--                      stage_accuracy=} for the log.
--   prompt(example)    renders the question and the first k steps, with k
--                      given by store.stage.
-- So the learner must call both on the same rlc_script state. Before the
-- first curriculum call (the learner renders its held-out set then) prompt
-- gives the bare question.
--
-- Two schedules (curriculum.params.schedule):
--   "staged" (default)  every prompt at the current stage;
--   "mixed"             R^3's mixing of start states: each prompt draws its
--                       stage, uniformly over all stages, or with probability
--                       params.focus the current stage (focus 0: the plain
--                       mix; the stage still moves on by the rule above and
--                       only steers the draw). The draws come from a seeded
--                       generator in `store` (params.seed), so a run repeats.
-- Other settings from curriculum.params: threshold, min_samples (below).
--
-- Steps: arith ({question, solution}, learner/arith.h): the sentences of the
-- solution before "\n####" ("8 + 7 = 15. 15 - 5 = 10."); the prompt keeps
-- the arith format, "user: Q\nassistant: " followed by the given steps.
-- GSM8K ({question, answer}): the non-empty lines of the answer before
-- "####", calculator annotations <<...>> removed. MATH ({problem, solution}):
-- the solution's sentences (a '.' or '?' outside math followed by a space, a
-- sentence ending inside math as in "$x = 3.$ Then", a blank line), up to the
-- one holding the last \boxed{}; display math, environments and [asy]
-- pictures are never cut.
-- A solution of n steps has n - 1 that can be given (the last one holds the
-- answer); stage s keeps round((n - 1) * FRACTIONS[s + 1]) of them.

local FRACTIONS = {1.0, 0.75, 0.5, 0.25, 0.0}  -- stage 0, 1, ...; the last must be 0
local THRESHOLD = 0.6    -- stage accuracy that moves to the next stage (params.threshold)
local MIN_SAMPLES = 1024 -- samples (all sources) at a stage before it may move on (params.min_samples)
local SEPARATOR = "\n\n" -- between the question and the given steps

assert(FRACTIONS[#FRACTIONS] == 0, "reverse.lua: the last stage must keep no steps")
local LAST = #FRACTIONS - 1

-- ---- steps ------------------------------------------------------------------

local function is_space(b) return b == 32 or (b >= 9 and b <= 13) end

-- Adds a step ending at j (the index of its last character) unless it holds
-- only whitespace since the previous step.
local function add_step(text, ends, j)
  local prev = ends[#ends] or 0
  while j > prev and is_space(text:byte(j)) do j = j - 1 end
  if j > prev then ends[#ends + 1] = j end
end

-- GSM8K: returns the cleaned reasoning text and the end of each line.
local function gsm8k_steps(answer)
  local cut = answer:find("####", 1, true)
  local text = (cut and answer:sub(1, cut - 1) or answer):gsub("<<.->>", "")
  local ends, pos = {}, 1
  while pos <= #text do
    local nl = text:find("\n", pos, true) or #text + 1
    add_step(text, ends, nl - 1)
    pos = nl + 1
  end
  return text, ends
end

-- The last non-space byte before index p.
local function last_char_before(text, p)
  local j = p - 1
  while j > 0 and is_space(text:byte(j)) do j = j - 1 end
  return j > 0 and text:sub(j, j) or ""
end

-- MATH: returns the solution and the end of each sentence.
local function math_steps(sol)
  local ends, n = {}, #sol
  local depth, inline = 0, false   -- display math / environments; inside $...$
  local function followed_by_space(j) return j >= n or is_space(sol:byte(j + 1)) end
  -- a math span closed at [p, q]: a sentence ends with it when it ended in
  -- "." (MATH often glues the next sentence on: "= 3.\]Let")
  local function closed(p, q)
    if depth == 0 and not inline and (followed_by_space(q) or sol:find("^%u", q + 1)) then
      local c = last_char_before(sol, p)
      if c == "." or c == "?" then add_step(sol, ends, q) end
    end
  end
  local i = 1
  while true do
    local p = sol:find("[%$\\%.%?\n%[]", i)
    if not p then break end
    local c = sol:sub(p, p)
    i = p + 1
    if c == "\\" then
      local nx = sol:sub(p + 1, p + 1)
      i = p + 2  -- also skips \$, \\, \{ ...
      if nx == "[" or nx == "(" then
        depth = depth + 1
      elseif nx == "]" or nx == ")" then
        depth = math.max(depth - 1, 0)
        closed(p, p + 1)
      elseif sol:find("^begin%b{}", p + 1) then
        i = select(2, sol:find("^begin%b{}", p + 1)) + 1
        depth = depth + 1
      elseif sol:find("^end%b{}", p + 1) then
        local _, q = sol:find("^end%b{}", p + 1)
        i = q + 1
        depth = math.max(depth - 1, 0)
        closed(p, q)
      end
    elseif c == "$" then
      if sol:sub(p + 1, p + 1) == "$" then  -- $$ display $$
        i = p + 2
        if depth > 0 then depth = depth - 1; closed(p, p + 1) else depth = depth + 1 end
      else
        inline = not inline
        if not inline then closed(p, p) end
      end
    elseif c == "[" then
      if sol:sub(p, p + 4) == "[asy]" then
        local _, q = sol:find("[/asy]", p, true)
        i = (q or n) + 1
      end
    elseif depth > 0 or inline then
      -- '.', '?' and newlines inside math end nothing
    elseif c == "\n" then
      if sol:find("^[ \t]*\n", p + 1) then add_step(sol, ends, p - 1) end
    elseif followed_by_space(p) then  -- '.' or '?'
      add_step(sol, ends, p)
    end
  end
  add_step(sol, ends, n)
  -- the step with the last \boxed{} is the answer: it and what follows it
  -- (a picture, a remark) are never given
  local boxed, from = nil, 1
  while true do
    local q = sol:find("\\boxed", from, true)
    if not q then break end
    boxed, from = q, q + 1
  end
  if boxed then
    local before = 0
    while before < #ends and ends[before + 1] < boxed do before = before + 1 end
    for j = #ends, before + 2, -1 do ends[j] = nil end
  end
  return sol, ends
end

-- arith: the sentences (". " or the end) of the solution before "####".
local function arith_steps(sol)
  local cut = sol:find("####", 1, true)
  local text = cut and sol:sub(1, cut - 1) or sol
  local ends, pos = {}, 1
  while true do
    local p = text:find("%.%s", pos) or (text:find("%.%s*$", pos))
    if not p then break end
    add_step(text, ends, p)
    pos = p + 1
  end
  add_step(text, ends, #text)
  return text, ends
end

-- The question, the solution text, the end of each of its steps, and
-- whether it is an arith record (learner/arith.h).
local function parse(example)
  if type(example.problem) == "string" and type(example.solution) == "string" then
    return example.problem, math_steps(example.solution)
  end
  if type(example.question) == "string" and type(example.solution) == "string" then
    local text, ends = arith_steps(example.solution)
    return example.question, text, ends, true
  end
  if type(example.question) == "string" and type(example.answer) == "string" then
    return example.question, gsm8k_steps(example.answer)
  end
  error("reverse.lua: the example has neither problem/solution (MATH) nor question/answer (GSM8K)")
end

-- Steps kept at a stage out of n: never the last one, none at the last stage.
local function kept(n, stage)
  if n <= 1 then return 0 end
  local k = math.floor((n - 1) * FRACTIONS[stage + 1] + 0.5)
  return math.max(0, math.min(k, n - 1))
end

-- ---- the two calls ------------------------------------------------------------

-- The next draw in [0, 1) of the generator kept in store (64-bit LCG).
local function uniform()
  store.rng = store.rng * 6364136223846793005 + 1442695040888963407
  return ((store.rng >> 11) & ((1 << 53) - 1)) / 9007199254740992.0
end

-- The stage of the next prompt: the current one, or a draw (mixed schedule).
local function prompt_stage()
  local cur = store.stage
  if store.schedule ~= "mixed" then return cur end
  if uniform() < store.focus then return cur end
  return math.min(LAST, math.floor(uniform() * (LAST + 1)))
end

function prompt(example)
  local question, text, ends, arith = parse(example)
  -- before the first curriculum call: the bare question (the held-out set)
  local k = store.stage and kept(#ends, prompt_stage()) or 0
  if arith then
    return "user: " .. question .. "\nassistant: " .. (k > 0 and text:sub(1, ends[k]) .. " " or "")
  end
  if k == 0 then return question end
  return question .. SEPARATOR .. text:sub(1, ends[k])
end

-- curriculum.params into store, for prompt(); checked once.
local function read_params(p)
  local schedule = p.schedule or "staged"
  assert(schedule == "staged" or schedule == "mixed", "reverse.lua: params.schedule must be \"staged\" or \"mixed\"")
  local focus = p.focus or 0
  assert(type(focus) == "number" and focus >= 0 and focus <= 1, "reverse.lua: params.focus must be in [0, 1]")
  store.schedule, store.focus = schedule, focus
  store.threshold = p.threshold or THRESHOLD
  store.min_samples = p.min_samples or MIN_SAMPLES
  if store.rng == nil then store.rng = math.tointeger(p.seed or 1) or 1 end
end

function curriculum(state)
  read_params(state.params or {})
  local seen, correct, windowed = 0, 0, 0
  for _, src in ipairs(state.sources) do
    seen = seen + src.seen
    correct = correct + src.correct
    windowed = windowed + src.count
  end
  if seen == 0 and windowed > 0 then
    error("reverse.lua needs the run totals state.sources[i].seen and .correct (all are 0)")
  end
  -- the totals when the stage began; rebased when the counters restart
  if store.stage == nil or seen < store.base_seen then
    store.stage = store.stage or 0
    store.base_seen, store.base_correct = seen, correct
  end
  local n = seen - store.base_seen
  local acc = n > 0 and (correct - store.base_correct) / n or 0
  if store.stage < LAST and n >= store.min_samples and acc >= store.threshold then
    store.stage = store.stage + 1
    store.base_seen, store.base_correct = seen, correct
    n, acc = 0, 0
  end
  local w = {}
  for _, src in ipairs(state.sources) do w[src.name] = 1.0 end
  return w, {stage = store.stage, keep = FRACTIONS[store.stage + 1], stage_samples = n,
             stage_accuracy = acc}
end
