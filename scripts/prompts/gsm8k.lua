-- gsm8k.lua: the prompt of verl's GSM8K GRPO recipe: the question, then an
-- instruction to reason and end with "#### N", as one user message (the
-- model's chat template wraps it).
function prompt(example)
  return {{role = "user", content = example.question ..
    " Let's think step by step and output the final answer after \"####\"."}}
end
