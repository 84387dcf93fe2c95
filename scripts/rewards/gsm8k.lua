-- gsm8k.lua: 1 when the completion's final answer equals the GSM8K reference.
-- The reference is the text after "####" in the dataset's answer field (or the
-- whole field). The completion's answer is the last \boxed{}, else "#### N",
-- else "the answer is N", else the last number (rlc.math.extract).
local function reference(sample)
  local a = sample.answer or sample.example.answer or ""
  return a:match("####%s*(.-)%s*$") or a
end

function reward(sample)
  local correct = rlc.math.grade(sample.completion, reference(sample))
  return correct and 1.0 or 0.0
end
