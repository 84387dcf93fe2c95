-- format.lua: 1 when the completion reasons inside one <think>...</think>
-- block and then gives an answer after it; 0 otherwise.
function reward(sample)
  local c = sample.completion
  local thought, answer = c:match("^%s*<think>(.-)</think>(.*)$")
  if not thought or thought:find("<think>", 1, true) or answer:find("</think>", 1, true) then
    return 0.0
  end
  if not answer:find("%S") then return 0.0 end
  return 1.0
end
