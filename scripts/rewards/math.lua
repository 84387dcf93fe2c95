-- math.lua: MATH-style answers: 1 when the last \boxed{...} of the completion
-- is equivalent to the reference (fractions, roots, intervals, sets, algebra:
-- see docs/grading.md); 0 when it differs or nothing is boxed.
local function reference(sample)
  if sample.answer and sample.answer ~= "" then return sample.answer end
  -- MATH records also carry the worked solution with its own \boxed{}
  local sol = sample.example.solution
  return sol and rlc.math.boxed(sol) or ""
end

function reward(sample)
  local given = rlc.math.boxed(sample.completion)
  if not given then return {score = 0.0, boxed = 0} end
  return {score = rlc.math.equal(given, reference(sample)) and 1.0 or 0.0, boxed = 1}
end
