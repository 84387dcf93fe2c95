-- stories.lua: a reward of the kind users write for story models: the story
-- should name the example's character and end within the length budget,
-- without being cut short.
--   +1    when sample.example.name appears in the completion
--   -0.5  when the sample ran out of tokens (finish_reason "length")
--   -0.5  when the story is shorter than 60 characters
function reward(sample)
  local name = sample.example and sample.example.name or "Tom"
  local named = string.find(sample.completion, name, 1, true) and 1 or 0
  local long = sample.finish_reason == "length" and 0.5 or 0
  local short = #sample.completion < 60 and 0.5 or 0
  return {score = named - long - short, named = named}
end
