-- math.lua: the usual MATH prompt for instruct models: the problem, then an
-- instruction to reason step by step and box the final answer.
function prompt(example)
  return {{role = "user", content = example.problem ..
    "\nPlease reason step by step, and put your final answer within \\boxed{}."}}
end
